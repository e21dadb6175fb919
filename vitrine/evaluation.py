"""`vitrine evaluate`: the temporal evaluation of the recommenders over a range of days, as a table.

It builds model_evaluation (and what it needs) for the chosen days into a separate schema of the warehouse, so that
the night's public marts in `main` are never replaced by an evaluation run.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from vitrine.config import warehouse_path

EVALUATION_SCHEMA = "evaluation"
# training days before the evaluated range that the meta model learns from (the project default: 30 - 7)
MIN_LEARNING_DAYS = 23


@dataclass(frozen=True)
class EvaluationRow:
    recommender: str
    sales_segment: str  # all | new_sales (the cold start)
    target: str
    days: int
    users: int
    p_at_10: float
    r_at_10: float
    ndcg_at_10: float
    hit_rate_at_10: float
    revenue_at_10: float
    auc: float | None


def evaluate(first_day: date, last_day: date, *, warehouse: Path | None = None) -> list[EvaluationRow]:
    """Rank every open sale on each day of [first_day, last_day] by each recommender; return the metrics.

    Means over the days weighted by the customers evaluated each day; revenue summed. The meta model is trained on
    the MIN_LEARNING_DAYS training days before the range (never on the days it is evaluated on).
    """
    from vitrine.dbt_runner import run_dbt

    if last_day < first_day:
        raise ValueError(f"--to {last_day} is before --from {first_day}")
    days = (last_day - first_day).days + 1
    variables = {
        "run_date": (last_day + timedelta(days=1)).isoformat(),
        "evaluation_days": days,
        "training_days": days + MIN_LEARNING_DAYS,
    }
    previous = os.environ.get("VITRINE_SCHEMA")
    os.environ["VITRINE_SCHEMA"] = EVALUATION_SCHEMA
    try:
        run_dbt(
            ["build", "--select", "+model_evaluation", "--exclude", "test_type:unit", "--vars", json.dumps(variables)],
            warehouse=warehouse,
        )
    finally:
        if previous is None:
            os.environ.pop("VITRINE_SCHEMA", None)
        else:
            os.environ["VITRINE_SCHEMA"] = previous

    return read_evaluation(warehouse, schema=EVALUATION_SCHEMA, first_day=first_day, last_day=last_day)


def read_evaluation(
    warehouse: Path | None = None, *, schema: str = "main", first_day: date | None = None,
    last_day: date | None = None,
) -> list[EvaluationRow]:
    """model_evaluation summed up over its days (all, or [first_day, last_day]) per recommender, segment and target."""
    with duckdb.connect(str(warehouse_path(warehouse)), read_only=True) as con:
        rows = con.execute(
            f"""
            select
                recommender, sales_segment, target, count(*) as days, sum(users) as users,
                sum(p_at_10 * users) / sum(users), sum(r_at_10 * users) / sum(users),
                sum(ndcg_at_10 * users) / sum(users), sum(hit_rate_at_10 * users) / sum(users),
                sum(revenue_at_10), sum(auc * users) / sum(users)
            from {schema}.model_evaluation
            where evaluated_on between coalesce(?, evaluated_on) and coalesce(?, evaluated_on)
            group by recommender, sales_segment, target
            order by sales_segment, target, 6 desc, recommender
            """,
            [first_day, last_day],
        ).fetchall()
    return [EvaluationRow(*row) for row in rows]


def format_evaluation(rows: list[EvaluationRow]) -> str:
    header = (
        f"{'sales':<9} {'target':<10} {'recommender':<15} {'days':>4} {'users':>7} {'P@10':>7} {'R@10':>7} "
        f"{'NDCG@10':>8} {'hit@10':>7} {'revenue@10':>11} {'AUC':>6}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        auc = f"{r.auc:.3f}" if r.auc is not None else "-"
        lines.append(
            f"{r.sales_segment:<9} {r.target:<10} {r.recommender:<15} {r.days:>4} {r.users:>7} "
            f"{r.p_at_10:>7.4f} {r.r_at_10:>7.4f} {r.ndcg_at_10:>8.4f} {r.hit_rate_at_10:>7.4f} "
            f"{r.revenue_at_10:>11,.0f} {auc:>6}"
        )
    return "\n".join(lines)


def evaluation_json(rows: list[EvaluationRow]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2)
