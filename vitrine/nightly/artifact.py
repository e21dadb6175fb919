"""The flow run's artifact: the night's key counts, metrics and step timings as markdown (and a table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any


@dataclass
class NightSummary:
    """What a nightly run did; filled step by step, returned by the flow and written to the artifact."""

    run_id: str
    requested_date: date | None
    run_date: date | None = None
    status: str = "running"  # published, failed
    failed_step: str | None = None
    reason: str | None = None
    step_seconds: dict[str, float] = field(default_factory=dict)
    step_peak_rss_mib: dict[str, float] = field(default_factory=dict)  # the flow's process, not Prefect's server
    ingest: dict[str, Any] | None = None
    dbt_counts: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    evaluation: list[dict[str, Any]] = field(default_factory=list)
    ranker: dict[str, Any] = field(default_factory=dict)  # ranker, model_version, reason (int_night_ranker)
    tables: dict[str, int] = field(default_factory=dict)  # public table -> rows published
    night_path: Path | None = None
    report_path: Path | None = None
    serving_db: Path | None = None
    still_served: str | None = None  # after a failure: the night that stays served

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items()}
        for key in ("requested_date", "run_date"):
            out[key] = out[key].isoformat() if out[key] else None
        for key in ("night_path", "report_path", "serving_db"):
            out[key] = str(out[key]) if out[key] else None
        return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def markdown(summary: NightSummary) -> str:
    """The artifact's markdown: outcome, step timings, key counts, evaluation, published tables."""
    night = summary.run_date or summary.requested_date
    lines = [f"# Vitrine night {night or '(default date)'}: {summary.status}", ""]
    if summary.status == "failed":
        lines += [f"**Failed at step `{summary.failed_step}`**: {summary.reason}", "",
                  f"Still served: {summary.still_served or 'nothing published yet'}", ""]
    else:
        lines += [f"Serving copy: `{summary.serving_db}`", f"Report: `{summary.report_path}`", ""]
    if summary.ranker:
        lines += [f"Ranked by `{summary.ranker['model_version']}`: {summary.ranker['reason']}", ""]
    if summary.step_seconds:
        lines += ["| step | seconds | peak RSS (MiB) |", "| --- | ---: | ---: |"]
        lines += [f"| {step} | {seconds:.1f} | {summary.step_peak_rss_mib.get(step, 0):,.0f} |"
                  for step, seconds in summary.step_seconds.items()]
        lines.append("")
    if summary.ingest:
        lines += ["## Ingest", "", "| table | read | accepted | rejected |", "| --- | ---: | ---: | ---: |"]
        lines += [f"| {t} | {_fmt(r['read'])} | {_fmt(r['accepted'])} | {_fmt(r['rejected'])} |"
                  for t, r in summary.ingest.items()]
        lines.append("")
    if summary.counts or summary.dbt_counts:
        lines += ["## Key counts", "", "| what | count |", "| --- | ---: |"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in {**summary.counts, **summary.dbt_counts}.items()]
        lines.append("")
    if summary.evaluation:
        lines += ["## Recommenders on the evaluation days (purchases)", "",
                  "| recommender | days | users | P@10 | R@10 | NDCG@10 | AUC |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for row in summary.evaluation:
            lines.append("| " + " | ".join(_fmt(row[k]) for k in
                                           ("recommender", "days", "users", "p_at_10", "r_at_10", "ndcg_at_10",
                                            "auc")) + " |")
        lines.append("")
    if summary.tables:
        lines += ["## Published tables", "", "| table | rows |", "| --- | ---: |"]
        lines += [f"| {t} | {_fmt(n)} |" for t, n in summary.tables.items()]
    return "\n".join(lines)
