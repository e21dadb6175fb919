"""The night's steps as plain functions (no Prefect): the flow wraps each in a task with retries and a timeout."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from vitrine.dbt_runner import DbtError, DbtRun, NodeResult
from vitrine.publish import PublicTable

logger = logging.getLogger("vitrine.nightly")

# dbt selections of the two build steps: the image models first (labelling only new content), then the rest.
LABEL_SELECTION = ["--select", "+tag:images"]
REST_SELECTION = ["--exclude", "tag:images"]
PASSING = {"success", "pass", "warn", "no-op"}  # no-op: an exposure (who reads the marts) has nothing to run


class QualityGateError(RuntimeError):
    """A dbt model or test did not pass: the night is not published."""


def is_transient(exc: BaseException) -> bool:
    """Failures that may pass on a retry: the warehouse locked by another process, a lost connection, a timeout.

    A failed dbt test, a broken model or a file that breaks the raw contract fail the same way every time: they are
    not retried.
    """
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    text = str(exc)
    return isinstance(exc, duckdb.IOException | DbtError | OSError) and (
        "Could not set lock" in text or "Conflicting lock" in text or "Resource temporarily unavailable" in text
    )


def dbt_vars(run_date: date | None, extra: dict[str, Any]) -> list[str]:
    variables = {**extra, **({"run_date": run_date.isoformat()} if run_date else {})}
    return ["--vars", json.dumps(variables, default=str)] if variables else []


def night_of_build(warehouse: Path) -> date:
    """The night the last build scored (int_scoring_days: the run_date var, or the day after the last visit)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select max(run_date) from main.int_scoring_days").fetchone()
    if row is None or row[0] is None:
        raise QualityGateError("the build scored no night: the warehouse has no visits (nothing ingested?)")
    return row[0]


def quality_gate(runs: list[DbtRun], public: list[PublicTable]) -> dict[str, int]:
    """Every node of every dbt run passed, and every public model was built tonight; else QualityGateError."""
    nodes = [n for run in runs for n in run.nodes]
    failed = [n for n in nodes if n.status not in PASSING and n.status != "skipped"]
    skipped = [n for n in nodes if n.status == "skipped"]
    built = {n.unique_id.split(".")[-1] for n in nodes if n.resource_type == "model" and n.status == "success"}
    unbuilt = [t.name for t in public if t.name not in built]
    problems = [_describe(n) for n in failed]
    if skipped:
        problems.append(f"{len(skipped)} node(s) skipped (downstream of a failure)")
    problems += [f"public model {name} was not built tonight" for name in unbuilt]
    problems += [f"`{' '.join(r.command)}` failed" for r in runs if not r.success and not failed]
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise QualityGateError(f"quality gate: {len(failed)} failed, {len(skipped)} skipped: {shown}")
    counts: dict[str, int] = {}
    for n in nodes:
        key = f"{n.resource_type}:{n.status}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _describe(node: NodeResult) -> str:
    message = f" ({node.message})" if node.message else ""
    return f"{node.unique_id} {node.status}{message}"


@dataclass(frozen=True)
class NightCounts:
    """The night's key counts and metrics, for the flow run's artifact, the manifest and the report."""

    counts: dict[str, int]
    evaluation: list[dict[str, Any]]
    ranker: dict[str, Any]  # what ranked the home pages: ranker, model_version, reason (int_night_ranker)


def night_counts(warehouse: Path, run_date: date) -> NightCounts:
    """Customers ranked, sales open, images labelled or not, and the evaluation per recommender (purchases)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()}

        def one(sql: str, *params: object) -> int:
            return int(con.execute(sql, list(params)).fetchone()[0] or 0)

        counts = {
            "customers_scored": one("select count(distinct user_id) from main.recommender_scores"),
            "candidates_scored": one("select count(*) from main.recommender_scores"),
            "sales_open": one("select count(*) from main.stg_sales where opens_on <= ? and closes_on >= ?",
                              run_date, run_date),
            "images": one("select count(*) from main.stg_sale_images"),
            "images_labelled": one("select count(distinct image_id) from main.image_labels where is_current"),
            "image_label_errors": one("select count(*) from main.image_label_errors"),
            "visits": one("select count(*) from main.stg_visits"),
            "purchases": one("select count(*) from main.stg_purchases"),
        }
        if counts["sales_open"] == 0:
            raise QualityGateError(f"no sale is open on {run_date}: there is nothing to rank that night, nothing "
                                   "is published (check the date, or the sales' opens_on and closes_on)")
        if "home_page_rankings" in names:
            counts["customers_ranked"] = one("select count(distinct user_id) from main.home_page_rankings")
        row = con.execute("select ranker, model_version, reason from main.int_night_ranker").fetchone()
        ranker = dict(zip(["ranker", "model_version", "reason"], row, strict=True)) if row else {}
        evaluation = [
            dict(zip(["recommender", "days", "users", "p_at_10", "r_at_10", "ndcg_at_10", "auc"], row, strict=True))
            for row in con.execute(
                """
                select recommender, count(*), sum(users), sum(p_at_10 * users) / sum(users),
                       sum(r_at_10 * users) / sum(users), sum(ndcg_at_10 * users) / sum(users),
                       sum(auc * users) / sum(users)
                from main.model_evaluation where target = 'purchases'
                group by recommender order by 4 desc, recommender
                """
            ).fetchall()
        ]
    return NightCounts(counts=counts, evaluation=evaluation, ranker=ranker)
