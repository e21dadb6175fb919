"""vitrine.nightly.dbt_nodes: dbt inside a flow, each node its own Prefect task run (the whole night with every
step is tests/test_nightly_flow.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from nightly_world import TEST_PREFECT_HOME

from vitrine.config import PROJECT_ROOT
from vitrine.dbt_runner import DbtError, DbtRun
from vitrine.nightly.settings import configure_prefect


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtRun, dict[str, Any], Path]:
    """`dbt seed` run by run_dbt_nodes inside a flow, on an empty warehouse: its result and the flow's task runs."""
    warehouse = tmp_path_factory.mktemp("dbt-nodes") / "wh.duckdb"
    os.environ.setdefault("PREFECT_HOME", str(TEST_PREFECT_HOME))
    configure_prefect(warehouse)
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.runtime import flow_run

    from vitrine.nightly.dbt_nodes import run_dbt_nodes

    @flow(persist_result=False)
    def seed_night() -> tuple[DbtRun, str]:
        return run_dbt_nodes(["seed"], warehouse=warehouse, label="seed"), str(flow_run.get_id())

    run, run_id = seed_night()
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    return run, {t.name: t.state.type.value for t in task_runs if t.state is not None}, warehouse


def test_each_node_is_a_completed_task_run_named_after_it(seeded: tuple[DbtRun, dict[str, Any], Path]) -> None:
    run, task_runs, _ = seeded
    seeds = {n.unique_id.rsplit(".", 1)[-1] for n in run.nodes}
    assert run.success and len(seeds) == len(list((PROJECT_ROOT / "seeds").glob("*.csv"))) >= 1
    assert {n.status for n in run.nodes} == {"success"}
    assert task_runs == {f"seed {name}": "COMPLETED" for name in seeds}


def test_dbt_that_cannot_run_raises_with_its_reason(seeded: tuple[DbtRun, dict[str, Any], Path]) -> None:
    _, _, warehouse = seeded
    from prefect import flow

    from vitrine.nightly.dbt_nodes import run_dbt_nodes

    @flow(persist_result=False)
    def broken() -> DbtRun:
        return run_dbt_nodes(["build", "--no-such-option"], warehouse=warehouse, label="dbt build")

    with pytest.raises(DbtError, match=r"`dbt build --no-such-option` could not run: .*no-such-option"):
        broken()
