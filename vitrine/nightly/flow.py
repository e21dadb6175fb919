"""The nightly Prefect flow: ingest -> label new images -> dbt build -> quality gate -> publish -> report.

On the Spark target (docs/spark.md) the ingest still checks and loads the raw files into the DuckDB file; a step then
appends the new batches to Spark's raw tables, dbt builds on Spark, and the quality gate copies the public marts (and
what the night's checks and report read) back into the DuckDB file, from which the publication and the report work
as on DuckDB: the serving layout does not depend on the engine.

Each step is a Prefect task with a timeout; ingest, labelling, build and publish retry with exponential backoff, but
only on transient failures (steps.is_transient: a warehouse locked by another process...), never on a failed test.
Every dbt node is its own task run (dbt_nodes). The run ends with a markdown and a table artifact of the night's key
counts and metrics; a failed run says at which step and why, and leaves the previous night served.
Import this module after settings.configure_prefect (vitrine.nightly.run does).

No `from __future__ import annotations` here: Prefect validates a served run's parameters with a pydantic model
built from the flow's signature, and with string annotations that model arrives "not fully defined" in the served
process (`date` unresolved: every deployment run failed; tests/test_nightly_serve.py).
"""

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from prefect.tasks import exponential_backoff

from vitrine import publish
from vitrine.dbt_runner import DbtRun
from vitrine.nightly import steps
from vitrine.nightly.artifact import NightSummary, markdown
from vitrine.nightly.dbt_nodes import run_dbt_nodes
from vitrine.nightly.memory import peak_rss
from vitrine.nightly.settings import NightlySettings, Timeouts
from vitrine.progress import console_line, progress

logger = logging.getLogger("vitrine.nightly")
T = TypeVar("T")


def _retry_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry only failures that may pass (steps.is_transient)."""
    try:
        state.result()
    except Exception as exc:
        return steps.is_transient(exc)
    return False


def _options(settings: NightlySettings, timeout: float, *, retry: bool = True) -> dict[str, Any]:
    options: dict[str, Any] = {"timeout_seconds": timeout, "cache_policy": None, "persist_result": False}
    if retry and settings.retries > 0:
        options |= {
            "retries": settings.retries,
            "retry_delay_seconds": exponential_backoff(backoff_factor=settings.retry_delay_seconds)(settings.retries),
            "retry_jitter_factor": 0.2,
            "retry_condition_fn": _retry_transient,
        }
    return options


@task(name="ingest landing folder")
def ingest_task(settings: NightlySettings) -> dict[str, Any]:
    from vitrine.ingest import ingest_folder

    assert settings.landing is not None
    report = ingest_folder(settings.landing, warehouse=settings.warehouse, images_root=settings.images_root)
    logger.info("ingest %s:\n%s", settings.landing, report.format_table())
    return {name: {"read": t.rows_read, "accepted": t.rows_accepted, "rejected": t.rows_rejected}
            for name, t in report.tables.items()}


@task(name="raw to spark")
def raw_to_spark_task(settings: NightlySettings) -> dict[str, int]:
    from vitrine.spark.raw import sync_raw

    copies = sync_raw(settings.warehouse)
    logger.info("raw to spark: %s", ", ".join(f"{c.table} +{c.rows}" for c in copies))
    return {c.table: c.rows for c in copies}


@task(name="label new images")
def label_task(settings: NightlySettings, run_date: date | None) -> DbtRun:
    args = ["build", *steps.LABEL_SELECTION, *steps.dbt_vars(run_date, settings.dbt_vars)]
    return run_dbt_nodes(args, warehouse=settings.warehouse, label="label new images", target=settings.target)


@task(name="dbt build")
def build_task(settings: NightlySettings, run_date: date | None) -> DbtRun:
    args = ["build", *steps.REST_SELECTION, *steps.dbt_vars(run_date, settings.dbt_vars)]
    return run_dbt_nodes(args, warehouse=settings.warehouse, label="dbt build", target=settings.target)


@task(name="quality gate")
def gate_task(runs: list[DbtRun], public: list[publish.PublicTable]) -> dict[str, int]:
    return steps.quality_gate(runs, public)


@task(name="copy marts to DuckDB")
def copy_to_duckdb_task(settings: NightlySettings, public: list[publish.PublicTable]) -> list[publish.PublicTable]:
    from vitrine.spark.mirror import copy_night_to_duckdb

    return copy_night_to_duckdb(settings.warehouse, public)


@task(name="publish")
def publish_task(
    settings: NightlySettings, run_date: date, run_id: str, public: list[publish.PublicTable], extra: dict[str, Any],
) -> publish.Night:
    with progress("publish", total=len(public), unit="tables") as bar:
        night = publish.publish_night(
            settings.warehouse, settings.serving, run_date=run_date, run_id=run_id, tables=public,
            keep=settings.keep, extra=extra, on_table=lambda _name: bar.advance(),
        )
    logger.info("publish: %s is now served (%s)", night.path.name, settings.serving / publish.CURRENT)
    return night


@task(name="report")
def report_task(settings: NightlySettings, night: publish.Night, summary: dict[str, Any]) -> Path:
    from vitrine.report import write_report

    return write_report(night, warehouse=settings.warehouse, summary=summary)


@flow(name="vitrine-nightly", flow_run_name="night-{run_date}", log_prints=True, persist_result=False,
      timeout_seconds=Timeouts().night)
def nightly(
    run_date: date | None = None,
    landing: str | None = None,
    warehouse: str | None = None,
    serving: str | None = None,
    images_root: str | None = None,
    keep: int | None = None,
    dbt_vars: dict[str, Any] | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """One night: ingest `landing` (when given), label new images, build, gate, publish, report.

    `run_date` (YYYY-MM-DD) is the night to rank; by default the day after the last visit. Paths default as in
    NightlySettings.resolve. Returns the night's summary; raises (the flow run fails) when any step fails, after
    writing the failure and its reason to the artifact and to SERVING/last_run.json.
    """
    settings = NightlySettings.resolve(warehouse=warehouse, serving=serving, landing=landing,
                                       images_root=images_root, keep=keep, dbt_vars=dbt_vars, target=target)
    run_id = flow_run.get_id() or str(uuid.uuid4())
    summary = NightSummary(run_id=run_id, requested_date=run_date)
    t = settings.timeouts
    current_step = "start"

    @contextmanager
    def step(name: str) -> Iterator[None]:
        nonlocal current_step
        current_step = name
        started = time.perf_counter()
        logger.info("==> %s", name)
        console_line(f"==> {name}")  # a quiet console's line for the step (the logger's goes to its log file)
        with peak_rss() as peak:
            yield
        summary.step_seconds[name] = round(time.perf_counter() - started, 2)
        summary.step_peak_rss_mib[name] = round(peak.mib, 1)

    def call(name: str, fn: Callable[..., T], timeout: float, *args: Any, retry: bool = True) -> T:
        with step(name):
            return fn.with_options(**_options(settings, timeout, retry=retry))(*args)  # type: ignore[attr-defined]

    try:
        if settings.landing is not None:
            summary.ingest = call("ingest", ingest_task, t.ingest, settings)
        if settings.target == "spark":
            call("raw to spark", raw_to_spark_task, t.ingest, settings)
        labels = call("label new images", label_task, t.labels, settings, run_date)
        build = call("dbt build", build_task, t.build, settings, run_date)
        with step("quality gate"):
            public = publish.public_tables()
            summary.dbt_counts = gate_task.with_options(**_options(settings, 600, retry=False))(
                [labels, build], public)
            if settings.target == "spark":  # what the checks below, the publication and the report read
                public = copy_to_duckdb_task.with_options(**_options(settings, t.publish))(settings, public)
            summary.run_date = steps.night_of_build(settings.warehouse)
            if run_date is not None and summary.run_date != run_date:
                raise steps.QualityGateError(f"the build scored {summary.run_date}, not the night asked, {run_date}")
            night_counts = steps.night_counts(settings.warehouse, summary.run_date)
            summary.counts, summary.evaluation = night_counts.counts, night_counts.evaluation
            summary.ranker = night_counts.ranker
        extra = {"counts": summary.counts, "dbt": summary.dbt_counts, "ingest": summary.ingest,
                 "ranker": summary.ranker}
        night = call("publish", publish_task, t.publish, settings, summary.run_date, run_id, public, extra)
        summary.night_path, summary.serving_db = night.path, settings.serving / publish.CURRENT / publish.SERVING_DB
        summary.tables = {name: entry["rows"] for name, entry in night.tables.items()}
        summary.status = "published"
        report = call("report", report_task, t.report, settings, night, summary.to_dict(), retry=False)
        summary.report_path = settings.serving / publish.CURRENT / report.relative_to(night.path)
    except BaseException as exc:
        served = publish.current_night(settings.serving)
        summary.failed_step, summary.reason = current_step, f"{type(exc).__name__}: {exc}"
        if summary.status != "published":  # a failed report leaves the night published
            summary.status = "failed"
            summary.still_served = f"{served.run_date} (run {served.run_id})" if served else None
        _finish(settings, summary)
        raise
    _finish(settings, summary)
    return summary.to_dict()


def _finish(settings: NightlySettings, summary: NightSummary) -> None:
    """The artifacts and last_run.json: written whatever the outcome."""
    try:
        publish.record_run(settings.serving, summary.to_dict())
        key = "vitrine-night"
        create_markdown_artifact(markdown(summary), key=key, description=f"Vitrine night: {summary.status}")
        if summary.counts or summary.tables:
            rows = [{"what": k, "value": v} for k, v in {**summary.counts, **summary.tables}.items()]
            rows += [{"what": f"P@10 {r['recommender']}", "value": round(r["p_at_10"] or 0, 4)}
                     for r in summary.evaluation]
            create_table_artifact(rows, key="vitrine-night-counts", description="The night's key counts and P@10")
    except Exception:  # never hide the night's own outcome behind a failed artifact
        logger.exception("could not record the night's outcome")
