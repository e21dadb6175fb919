"""dbt inside the nightly flow, each node (model, seed, test, unit test) its own Prefect task run.

dbt runs through its programmatic API (dbtRunner) in a worker thread. A callback passes its NodeStart and
NodeFinished events back to the flow step's thread through a queue; there each node that starts becomes a Prefect
task run named after it (`model int_open_sales`, `test not_null_stg_visits_user_id`), submitted to a thread-pool
task runner. The task run waits for its node, logs dbt's result line, and fails when the node errored or its test
failed. dbt's own console output is off (the task runs carry it); its log file and target/ artifacts are as usual.

Why not prefect-dbt's PrefectDbtRunner, which this replaced: each of its node task runs started in a bare thread
and rebuilt Prefect's settings and run context from a serialized copy, twice, spending CPU per node on the cores
that dbt and DuckDB need, which made the night's build markedly slower than a plain `dbt build`
(docs/benchmarks.md). Prefect's ThreadPoolTaskRunner hands its tasks the step's context (contextvars) instead,
which costs nothing to rebuild.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vitrine.config import DBT_PROJECT_DIR, PROFILES_DIR, disable_telemetry
from vitrine.dbt_runner import (
    FAILED_STATUSES,
    DbtError,
    DbtRun,
    _node_results,
    dbt_on_warehouse,
    on_target,
    with_cautious_selection,
)
from vitrine.progress import Tracker, progress

logger = logging.getLogger("vitrine.nightly")

# At most dbt's threads of nodes run at once; a few more task runs may be queued behind nodes that finished already.
TASK_THREADS = 4
# How often the step's thread wakes while it waits for dbt's events (a Prefect timeout interrupts it then).
POLL_SECONDS = 0.5


class DbtNodeFailed(RuntimeError):
    """A dbt node errored or its test failed (the node's task run ends Failed; the quality gate decides the night)."""


@dataclass
class _Node:
    """One dbt node as the flow sees it: set by dbt's events, awaited by its task run."""

    unique_id: str
    resource_type: str
    name: str
    status: str = ""
    message: str = ""
    seconds: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def task_run_name(self) -> str:
        return f"{self.resource_type} {self.name}"

    def finish(self, status: str, message: str, seconds: float) -> None:
        self.status, self.message, self.seconds = status, message, seconds
        self.done.set()


def _await_node(node: _Node) -> str:
    """The body of a node's task run: wait for dbt to finish the node; fail when it failed."""
    from prefect import get_run_logger

    node.done.wait()
    line = f"{node.status} {node.task_run_name} in {node.seconds:.2f}s" + (f": {node.message}" if node.message else "")
    get_run_logger().info(line)
    if node.status in FAILED_STATUSES:
        raise DbtNodeFailed(f"{node.unique_id}: {node.status}: {node.message}")
    return node.status


def _events_callback(events: queue.Queue[tuple[str, Any]]) -> Any:
    """dbt's event callback (called on dbt's threads): forward only what the flow needs, as plain values."""

    def callback(event: Any) -> None:
        name = event.info.name
        if name == "NodeStart":
            info = event.data.node_info
            events.put(("start", (info.unique_id, info.resource_type, info.node_name)))
        elif name == "NodeFinished":
            info, result = event.data.node_info, event.data.run_result
            status = result.status or info.node_status
            events.put(("finish", (info.unique_id, info.resource_type, info.node_name, status, result.message,
                                   float(result.execution_time))))
        elif name == "ConcurrencyLine":
            events.put(("count", event.data.node_count))

    return callback


def run_dbt_nodes(args: list[str], *, warehouse: Path, label: str, target: str = "duckdb") -> DbtRun:
    """Run `dbt ARGS` against `warehouse` with a Prefect task run per node; return every node's result.

    Call it inside a flow or task run. Does not raise on a failed node or test (the quality gate decides); raises
    DbtError when dbt itself could not run (a parse or compilation error, an unreachable warehouse).
    """
    from dbt.cli.main import dbtRunner
    from prefect import task
    from prefect.futures import wait
    from prefect.task_runners import ThreadPoolTaskRunner

    disable_telemetry()
    command = [*with_cautious_selection(args), "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
               str(PROFILES_DIR), "--target", target, "--log-level", "none"]
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    outcome: dict[str, Any] = {}

    def invoke() -> None:
        try:
            outcome["result"] = dbtRunner(callbacks=[_events_callback(events)]).invoke(command)
        except BaseException as exc:  # handed to the step's thread, which raises it
            outcome["error"] = exc
        finally:
            events.put(("end", None))

    node_task = task(_await_node, cache_policy=None, persist_result=False)
    nodes: dict[str, _Node] = {}
    futures = []
    with (
        dbt_on_warehouse(warehouse),
        on_target(target, warehouse),
        ThreadPoolTaskRunner(max_workers=TASK_THREADS) as runner,
    ):
        worker = threading.Thread(target=invoke, name=f"dbt {label}", daemon=True)
        worker.start()
        bar: Any = None
        tracker: Tracker | None = None
        try:
            while True:
                try:
                    kind, payload = events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if kind == "end":
                    break
                if kind == "count" and bar is None:
                    bar = progress(f"{label}: nodes", total=int(payload), unit="nodes")
                    tracker = bar.__enter__()
                elif kind == "start":
                    node = nodes.setdefault(payload[0], _Node(*payload))
                    named = node_task.with_options(name=node.task_run_name, task_run_name=node.task_run_name)
                    futures.append(runner.submit(named, {"node": node}))
                elif kind == "finish":
                    unique_id, resource_type, name, status, message, seconds = payload
                    nodes.setdefault(unique_id, _Node(unique_id, resource_type, name)).finish(status, message, seconds)
                    if tracker is not None:
                        tracker.advance()
        finally:
            for node in nodes.values():  # never leave a task run waiting (dbt ended or this step was interrupted)
                if not node.done.is_set():
                    node.finish("error", "dbt ended before the node finished", 0.0)
            if bar is not None:
                bar.__exit__(None, None, None)
        worker.join()
        wait(futures)
    if "error" in outcome:
        raise DbtError(f"`dbt {' '.join(args)}` could not run: {outcome['error']}") from outcome["error"]
    result = outcome["result"]
    if result.result is None and result.exception is not None:
        raise DbtError(f"`dbt {' '.join(args)}` could not run: {result.exception}")
    run = DbtRun(command=["dbt", *args], success=bool(result.success), nodes=_node_results(result.result))
    logger.info("%s: %s", label, ", ".join(f"{k} {v}" for k, v in sorted(run.counts().items())))
    return run
