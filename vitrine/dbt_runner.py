"""Running the dbt project in-process (dbt's programmatic API) against a chosen warehouse file."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vitrine.config import DBT_PROJECT_DIR, PROFILES_DIR, disable_telemetry, warehouse_path

# The profile's outputs (profiles.yml): DuckDB, the default, and Apache Spark (docs/spark.md).
TARGETS = ("duckdb", "spark")

# The statuses of a node that failed: a model or seed that errored, a test that failed or could not run.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


class DbtError(RuntimeError):
    """A dbt command failed: a model errored or a test failed."""


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    resource_type: str  # model, test, seed, snapshot...
    status: str  # success, pass, error, fail, warn, skipped
    seconds: float
    message: str | None


@dataclass
class DbtRun:
    command: list[str]
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Statuses by resource type, e.g. {'model:success': 5, 'test:pass': 31}."""
        return dict(Counter(f"{n.resource_type}:{n.status}" for n in self.nodes))

    def failures(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in FAILED_STATUSES]


def run_dbt(
    args: list[str], *, warehouse: Path | None = None, target: str | None = None, raise_on_failure: bool = True
) -> DbtRun:
    """Run `dbt <args>` on the Vitrine project, against `warehouse` (default: config.warehouse_path()).

    The profile reads the file path from VITRINE_WAREHOUSE, so it is set (absolute) for the duration of the call.
    A build or test that selects nodes gets cautious indirect selection (with_cautious_selection). On the `spark`
    target the models run on the process's Spark session, whose tables live beside the warehouse file
    (vitrine.spark.session.spark_target), and the Python models run in-process (vitrine.spark.python_models).
    """
    from dbt.cli.main import dbtRunner  # heavy import: only when dbt actually runs

    target = target_name(target)
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: one of {', '.join(TARGETS)}")
    disable_telemetry()
    path = warehouse_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [*with_cautious_selection(args), "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(PROFILES_DIR), "--target", target]
    with dbt_on_warehouse(path), on_target(target, path):
        result = dbtRunner().invoke(command)

    run = DbtRun(command=["dbt", *args], success=bool(result.success), nodes=_node_results(result.result))
    if raise_on_failure and not run.success:
        detail = "; ".join(f"{n.unique_id}: {n.status} ({n.message})" for n in run.failures())
        cause = f": {result.exception}" if result.exception else ""
        raise DbtError(f"`{' '.join(run.command)}` failed{cause}{': ' + detail if detail else ''}")
    return run


def target_name(target: str | None = None) -> str:
    """The dbt target: `target` if given, else $VITRINE_TARGET (as the profile reads it), else duckdb."""
    return target or os.environ.get("VITRINE_TARGET") or "duckdb"


def with_cautious_selection(args: list[str]) -> list[str]:
    """`args`, plus --indirect-selection cautious for a build or test that selects nodes: only the tests whose every
    parent is selected run, so that a partial build does not fail on relationships to models it skipped."""
    if args and args[0] in {"build", "test"} and {"--select", "-s"} & set(args) and "--indirect-selection" not in args:
        return [*args, "--indirect-selection", "cautious"]
    return list(args)


@contextmanager
def dbt_on_warehouse(path: Path) -> Iterator[None]:
    """Point the profile at `path` (VITRINE_WAREHOUSE) for an in-process dbt call; afterwards restore the variable
    and release the DuckDB file that dbt-duckdb keeps open."""
    previous = os.environ.get("VITRINE_WAREHOUSE")
    os.environ["VITRINE_WAREHOUSE"] = str(path)
    try:
        yield
    finally:
        _release_duckdb()
        if previous is None:
            os.environ.pop("VITRINE_WAREHOUSE", None)
        else:
            os.environ["VITRINE_WAREHOUSE"] = previous


@contextmanager
def on_target(target: str, path: Path) -> Iterator[None]:
    """What an in-process dbt call on `target` needs around it: for spark, the Spark folder beside `path` and the
    in-process Python models; nothing for duckdb."""
    if target != "spark":
        yield
        return
    from vitrine.spark.python_models import enable_session_python_models
    from vitrine.spark.session import spark_target

    enable_session_python_models()
    with spark_target(path):
        yield


def _release_duckdb() -> None:
    """Close the DuckDB database that dbt-duckdb keeps open for the life of the process.

    Without this, the warehouse file stays locked by this process with dbt's configuration, and opening it again
    (read-only, or with other settings) fails until the process exits. dbt-duckdb's own close_all_connections()
    forgets the environment without closing it, hence the explicit close.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def _node_results(raw: Any) -> list[NodeResult]:
    results = getattr(raw, "results", None) or []
    nodes: list[NodeResult] = []
    for r in results:
        node = getattr(r, "node", None)
        if node is None:  # e.g. source freshness results carry the source differently
            unique_id = getattr(r, "unique_id", "?")
            resource_type = "source"
        else:
            unique_id = node.unique_id
            resource_type = str(node.resource_type)
        nodes.append(
            NodeResult(
                unique_id=unique_id,
                resource_type=resource_type,
                status=str(getattr(r.status, "value", r.status)),
                seconds=float(getattr(r, "execution_time", 0.0) or 0.0),
                message=getattr(r, "message", None),
            )
        )
    return nodes
