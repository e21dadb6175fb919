"""The nightly Prefect flow for real, on one small simulated world: a first night, two failed nights (a bad landing
file, a failed dbt test), a run killed with SIGKILL midway (while dbt writes the warehouse), and a rerun of the same
night, while a separate reader process queries the serving copy from the killed run to the end. A publication
killed halfway (a night folder without its manifest) is tested in test_publish.py.

The scenario runs once (module fixture) in this order; each test checks one property of what happened.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from nightly_world import TEST_PREFECT_HOME, FirstNight, first_night

from vitrine.nightly.run import NightlyError, run_nightly
from vitrine.publish import NIGHTS, current_night, last_run, list_nights, public_tables, verify_night

TESTS = Path(__file__).resolve().parent


@dataclass
class Scenario:
    first: FirstNight
    bad_landing: NightlyError | None = None
    bad_landing_outcome: dict[str, Any] = field(default_factory=dict)
    failed_test: NightlyError | None = None
    failed_test_outcome: dict[str, Any] = field(default_factory=dict)
    served_after_failures: str | None = None
    killed_output: str = ""
    served_after_kill: str | None = None
    problems_after_kill: list[str] = field(default_factory=list)
    rerun: dict[str, Any] = field(default_factory=dict)
    reader: list[dict[str, Any]] = field(default_factory=list)


def _kill_midway(first: FirstNight) -> str:
    """Run `vitrine nightly` for the same night in its own process group; SIGKILL the group (the flow and its
    temporary Prefect server) once a third of the dbt build's nodes are done, while dbt writes the warehouse.
    Returns the run's output."""
    env = {**os.environ, "VITRINE_PROGRESS": "log", "PREFECT_HOME": str(TEST_PREFECT_HOME) + "-killed"}
    command = [sys.executable, "-m", "vitrine.cli", "nightly", "--warehouse", str(first.warehouse),
               "--serving", str(first.serving), "--date", first.run_date.isoformat()]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    watchdog = threading.Timer(900, lambda: os.killpg(proc.pid, signal.SIGKILL))  # never hang the suite
    watchdog.start()
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            done = re.search(r"dbt build: nodes: (\d+)/(\d+) nodes", line)
            if done and 3 * int(done[1]) >= int(done[2]):
                os.killpg(proc.pid, signal.SIGKILL)
                break
        proc.wait()
    finally:
        watchdog.cancel()
    output = "".join(lines)
    assert proc.returncode == -signal.SIGKILL, f"the run was not killed midway:\n{output[-3000:]}"
    return output


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    first = first_night()
    result = Scenario(first=first)
    work = tmp_path_factory.mktemp("nightly")

    # 1. A landing folder with an empty file: the ingest refuses it, the night fails at once.
    landing = work / "landing-bad"
    landing.mkdir()
    (landing / "visits.csv").write_bytes(b"")
    with pytest.raises(NightlyError) as caught:
        run_nightly(landing=landing, warehouse=first.warehouse, serving=first.serving)
    result.bad_landing, result.bad_landing_outcome = caught.value, last_run(first.serving) or {}

    # 2. A row written to raw behind ingest's back (a visit of an unknown sale, in a batch already staged): the
    # incremental stg_visits skips it, and its completeness test fails the night.
    broken = work / "broken" / "vitrine.duckdb"
    broken.parent.mkdir()
    shutil.copy(first.warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute(
            "insert into raw.visits select user_id, 999999999 as sale_id, visited_at, _batch_id, _source_file, "
            "_line, _ingested_at from raw.visits limit 1"
        )
    with pytest.raises(NightlyError) as caught:
        run_nightly(run_date=first.run_date, warehouse=broken, serving=first.serving)
    result.failed_test, result.failed_test_outcome = caught.value, last_run(first.serving) or {}
    result.served_after_failures = current_night(first.serving).run_id

    # 3. A reader process queries the serving copy from now until the end.
    out, stop = work / "reader.jsonl", work / "reader.stop"
    reader = subprocess.Popen([sys.executable, str(TESTS / "serving_reader.py"), str(first.serving), str(out),
                               str(stop)])
    try:
        # 4. A run killed midway, while dbt builds.
        result.killed_output = _kill_midway(first)
        served = current_night(first.serving)
        result.served_after_kill = served.run_id
        result.problems_after_kill = verify_night(served)
        # 5. The same night again (its landing folder too: ingesting it twice adds nothing).
        result.rerun = run_nightly(run_date=first.run_date, landing=first.world.out, warehouse=first.warehouse,
                                   serving=first.serving)
        # Let the reader see the new night before stopping it (bounded: it reads every 50 ms).
        for _ in range(600):
            seen = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
            if any(r.get("run_id") == result.rerun["run_id"] for r in seen):
                break
            if reader.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    result.reader = [json.loads(line) for line in out.read_text().splitlines()]
    return result


def test_first_night_publishes_every_public_mart_with_a_manifest_and_a_report(scenario: Scenario) -> None:
    first = scenario.first
    night = next(n for n in list_nights(first.serving) if n.run_id == first.summary["run_id"])
    assert night.run_date == first.run_date
    assert sorted(night.tables) == sorted(t.name for t in public_tables())  # exactly the models tagged public
    assert {"recommender_scores", "model_evaluation", "image_labels"} <= set(night.tables)
    assert night.tables["recommender_scores"]["rows"] > 0 and night.tables["image_labels"]["rows"] > 0
    assert verify_night(night) == []
    assert (night.path / "report" / "index.html").exists()
    summary = first.summary
    assert summary["status"] == "published" and summary["counts"]["customers_scored"] > 0
    assert summary["ingest"]["visits"]["read"] == summary["ingest"]["visits"]["accepted"] > 0
    assert list(summary["step_seconds"]) == ["ingest", "label new images", "dbt build", "quality gate", "publish",
                                             "report"]
    assert summary["dbt_counts"].get("test:pass", 0) > 50 and not any(
        k.endswith((":fail", ":error", ":skipped")) for k in summary["dbt_counts"])


def test_the_flow_run_has_a_task_run_per_dbt_node_and_an_artifact(scenario: Scenario) -> None:
    from prefect.artifacts import Artifact
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterName

    run_id = scenario.first.summary["run_id"]
    flow_run = FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
    nodes = ["model recommender_scores", "model int_image_inference", "test not_null_stg_visits_user_id"]
    with get_client(sync_client=True) as client:
        dbt_nodes = {t.name for t in client.read_task_runs(
            flow_run_filter=flow_run, task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=nodes)))}
        task_runs, page = [], 200  # the server pages its answers: a night has more task runs than one page
        while len(batch := client.read_task_runs(flow_run_filter=flow_run, limit=page, offset=len(task_runs))):
            task_runs += batch
            if len(batch) < page:
                break
        steps = {t.name.rsplit("-", 1)[0] for t in task_runs
                 if not t.name.startswith(("model ", "test ", "unit_test ", "seed "))}
    assert dbt_nodes == set(nodes)  # each dbt node is its own task run
    assert steps >= {"ingest landing folder", "label new images", "dbt build", "quality gate", "publish", "report"}
    artifact = Artifact.get("vitrine-night")
    assert artifact is not None
    assert "published" in artifact.data and "| recommender_scores |" in artifact.data and "P@10" in artifact.data


def test_a_bad_landing_file_fails_the_night_and_says_why(scenario: Scenario) -> None:
    message = str(scenario.bad_landing)
    assert "ingest" in message and "visits.csv" in message and "Still served: " in message
    assert scenario.bad_landing_outcome["status"] == "failed"
    assert scenario.bad_landing_outcome["failed_step"] == "ingest"
    assert scenario.served_after_failures == scenario.first.summary["run_id"]


def test_a_failed_dbt_test_fails_the_night_at_the_gate_and_keeps_the_last_good_night(scenario: Scenario) -> None:
    message = str(scenario.failed_test)
    assert "quality gate" in message and "stg_visits_hold_every_raw_visit" in message
    assert scenario.failed_test_outcome["failed_step"] == "quality gate"
    assert str(scenario.first.run_date) in scenario.failed_test_outcome["still_served"]
    assert scenario.served_after_failures == scenario.first.summary["run_id"]


def test_a_killed_run_never_serves_half_a_night_and_the_next_run_succeeds(scenario: Scenario) -> None:
    assert "dbt build: nodes: " in scenario.killed_output and "publish" not in scenario.killed_output
    assert scenario.served_after_kill == scenario.first.summary["run_id"]
    assert scenario.problems_after_kill == []  # what is served is complete and matches its manifest
    assert scenario.rerun["status"] == "published"  # the warehouse the killed run was writing is fine
    served = current_night(scenario.first.serving)
    assert served.run_id == scenario.rerun["run_id"]
    leftovers = [p for p in (scenario.first.serving / NIGHTS).iterdir() if not (p / "manifest.json").exists()]
    assert leftovers == []  # the next publication removed the killed run's folder


def test_a_reader_during_the_runs_always_sees_one_complete_night(scenario: Scenario) -> None:
    errors = [r for r in scenario.reader if not r["ok"]]
    assert errors == []
    seen = [r["run_id"] for r in scenario.reader]
    assert seen[0] == scenario.first.summary["run_id"]
    assert seen[-1] == scenario.rerun["run_id"]
    assert len(scenario.reader) > 20


def test_a_rerun_for_the_same_date_gives_identical_rankings(scenario: Scenario) -> None:
    nights = {n.run_id: n for n in list_nights(scenario.first.serving)}
    first, rerun = nights[scenario.first.summary["run_id"]], nights[scenario.rerun["run_id"]]
    assert rerun.run_date == first.run_date
    ranking_tables = [t for t in ("home_page_rankings", "recommender_scores") if t in first.tables]
    for table in ranking_tables:
        assert rerun.content_hash(table) == first.content_hash(table), table
    assert scenario.rerun["ingest"]["visits"]["read"] == 0  # the landing folder was ingested once
