"""dbt inside the nightly flow, each node (model, seed, test, unit test) its own Prefect task run.

prefect-dbt's PrefectDbtRunner wraps dbt's programmatic API (dbtRunner) with callbacks: a NodeStart event opens a
task run for the node, NodeFinished ends it (Failed for an error or a failed test), and dbt's log lines go to that
task run's logs. It installs cleanly beside dbt-core 1.11.16 and prefect 3.9.1, so it is used rather than callbacks
of our own. Like vitrine.dbt_runner.run_dbt, this points the profile at the warehouse (VITRINE_WAREHOUSE), uses
cautious indirect selection for partial builds, and closes dbt-duckdb's database afterwards.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vitrine.config import DBT_PROJECT_DIR, PROFILES_DIR
from vitrine.dbt_runner import DbtError, DbtRun, _node_results, dbt_on_warehouse, with_cautious_selection
from vitrine.progress import Tracker, progress

logger = logging.getLogger("vitrine.nightly")


def run_dbt_nodes(args: list[str], *, warehouse: Path, label: str) -> DbtRun:
    """Run `dbt ARGS` against `warehouse` with a Prefect task run per node; return every node's result.

    Does not raise on a failed node or test (the quality gate decides); raises DbtError when dbt itself could not run
    (a parse or compilation error, an unreachable warehouse).
    """
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    command = with_cautious_selection(args)
    settings = PrefectDbtSettings(project_dir=DBT_PROJECT_DIR, profiles_dir=PROFILES_DIR)
    runner = PrefectDbtRunner(settings=settings, raise_on_failure=False)
    state: dict[str, Any] = {}

    @runner.on_run_start
    def _start(ctx: Any) -> None:
        state["bar"] = progress(f"{label}: models", total=_expected_models(ctx.owner.manifest, args), unit="models")
        state["tracker"] = state["bar"].__enter__()

    @runner.post_model
    def _model_done(ctx: Any) -> None:
        tracker: Tracker | None = state.get("tracker")
        if tracker is not None:
            tracker.advance()

    with dbt_on_warehouse(warehouse):
        try:
            result = runner.invoke(command)
        except ValueError as exc:  # prefect-dbt raises ValueError when dbt returns an exception
            raise DbtError(f"`dbt {' '.join(args)}` could not run: {exc}") from exc
        finally:
            if "bar" in state:
                state["bar"].__exit__(None, None, None)
    run = DbtRun(command=["dbt", *args], success=bool(result.success), nodes=_node_results(result.result))
    logger.info("%s: %s", label, ", ".join(f"{k} {v}" for k, v in sorted(run.counts().items())))
    return run


def _expected_models(manifest: Any, args: list[str]) -> int | None:
    """How many models the night's two selections build (for the progress total); None for other selections."""
    models = {uid: node for uid, node in manifest.nodes.items() if uid.startswith("model.")}
    tagged = {uid for uid, node in models.items() if "images" in node.tags}
    if args[1:3] == ["--select", "+tag:images"]:
        seen, todo = set(), list(tagged)
        while todo:
            uid = todo.pop()
            if uid in models and uid not in seen:
                seen.add(uid)
                todo.extend(models[uid].depends_on.nodes)
        return len(seen)
    if args[1:3] == ["--exclude", "tag:images"]:
        return len(models) - len(tagged)
    return None
