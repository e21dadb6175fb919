"""`vitrine serve` against a real local Prefect server, as the README's "Scheduling the night" says to run it.

A `prefect server start --host 127.0.0.1` on a free port, `vitrine serve --cron ...` beside it: the deployment is
registered with the cron and the night's paths; a run of that deployment (what the schedule, the UI or `prefect
deployment run` create) is picked up by the served process and publishes the night asked for. The world is the
nightly tests' first night, copied: the served night reuses its labels, so only the build and publish run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nightly_world import first_night

from vitrine.config import PROJECT_ROOT
from vitrine.publish import last_run

CRON = "0 2 * * *"
SERVER_START_S = 240
REGISTER_S = 180
NIGHT_S = 900


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for(what: str, seconds: float, check: Any, logs: list[Path]) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(2)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs if log.exists())
    pytest.fail(f"{what} within {seconds} s\n{tails}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    first = first_night()
    work = tmp_path_factory.mktemp("serve")
    warehouse = work / "wh" / "vitrine.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(first.warehouse, warehouse)
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect-home"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "VITRINE_PROGRESS": "log"}
    logs = [work / "server.log", work / "serve.log"]
    server = _start([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                     "--port", str(port)], env, logs[0])
    serve = None
    try:
        def healthy() -> bool:
            try:
                return httpx.get(f"{api}/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for("the Prefect server did not answer", SERVER_START_S, healthy, logs)
        serve = _start([sys.executable, "-m", "vitrine.cli", "serve", "--cron", CRON, "--warehouse", str(warehouse),
                        "--serving", str(work / "serving")], env, logs[1])

        def deployment() -> dict[str, Any] | None:
            found = httpx.post(f"{api}/deployments/filter", timeout=10,
                               json={"deployments": {"name": {"any_": ["vitrine-nightly"]}}}).json()
            return found[0] if found else None

        registered = _wait_for("vitrine serve did not register its deployment", REGISTER_S, deployment, logs)
        run = httpx.post(f"{api}/deployments/{registered['id']}/create_flow_run", timeout=10,
                         json={"parameters": {"run_date": first.run_date.isoformat()}}).json()

        def finished() -> dict[str, Any] | None:
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()["state"]
            return state if state["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} else None

        state = _wait_for("the served process did not finish the night", NIGHT_S, finished, logs)
        yield {"deployment": registered, "state": state, "serving": work / "serving", "warehouse": warehouse,
               "run_date": first.run_date, "logs": logs}
    finally:
        if serve is not None:
            _stop(serve)
        _stop(server)


def test_serve_registers_the_schedule_and_the_nights_paths(served: dict[str, Any]) -> None:
    deployment = served["deployment"]
    crons = [s["schedule"].get("cron") for s in deployment["schedules"] if s.get("active", True)]
    assert crons == [CRON]
    assert deployment["parameters"]["warehouse"] == str(served["warehouse"])
    assert deployment["parameters"]["serving"] == str(served["serving"])


def test_a_run_of_the_deployment_publishes_the_night(served: dict[str, Any]) -> None:
    logs = "\n".join(log.read_text(errors="replace")[-2000:] for log in served["logs"])
    assert served["state"]["type"] == "COMPLETED", f"{served['state']}\n{logs}"
    outcome = last_run(served["serving"])
    assert outcome is not None and outcome["status"] == "published", outcome
    assert outcome["run_date"] == served["run_date"].isoformat()
    assert (served["serving"] / "current" / "serving.duckdb").is_file()
