"""`vitrine demo`: simulate a small world, then run the nightly flow on it, print what is where.

The flow ingests the world, labels its photos, builds the dbt project, passes the quality gate, publishes the
serving copy and writes the report (vitrine.nightly). The demo owns its warehouse: it rebuilds it from scratch on
each run so that the summary always describes one world. It refuses to touch a warehouse that holds data ingested
from anywhere else.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from vitrine.config import warehouse_path
from vitrine.evaluation import format_evaluation, read_evaluation
from vitrine.night_summary import night_summary


class DemoError(RuntimeError):
    """The demo could not run (its warehouse holds other data, or a step failed)."""


@dataclass(frozen=True)
class TableCount:
    schema: str
    name: str
    kind: str  # BASE TABLE or VIEW
    rows: int


def warehouse_tables(path: Path) -> list[TableCount]:
    """Every table and view of the warehouse with its row count (read-only connection)."""
    with duckdb.connect(str(path), read_only=True) as con:
        listing = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() order by table_schema, table_name"
        ).fetchall()
        return [
            TableCount(schema, name, kind, con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0])
            for schema, name, kind in listing
        ]


def _ingested_sources(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with duckdb.connect(str(path), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' "
            "and table_name = 'ingest_batches'"
        ).fetchone()[0]
        if not exists:
            return set()
        return {row[0] for row in con.execute("select distinct source_dir from raw.ingest_batches").fetchall()}


def run_demo(
    *, users: int, days: int, sales_per_day: int, seed: int, photos: Path | None, start: date,
    workdir: Path | None = None, warehouse: Path | None = None, echo: Callable[[str], None] = print,
) -> list[TableCount]:
    from vitrine.nightly.run import NightlyError, run_nightly
    from vitrine.simulate import simulate_world

    wh = warehouse_path(warehouse)
    world = (workdir or wh.parent).resolve() / "demo_world"
    foreign = {s for s in _ingested_sources(wh) if Path(s).resolve() != world}
    if foreign:
        raise DemoError(
            f"{wh} holds data ingested from {sorted(foreign)}; the demo rebuilds its warehouse from scratch. "
            "Point it elsewhere with --warehouse or VITRINE_WAREHOUSE."
        )
    for stale in (wh, wh.with_name(wh.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(world, ignore_errors=True)

    timings: dict[str, float] = {}

    @contextmanager
    def step(name: str) -> Iterator[None]:
        echo(f"==> {name}")
        t0 = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - t0

    try:
        with step("simulate"):
            world_summary = simulate_world(
                world, users=users, days=days, sales_per_day=sales_per_day, seed=seed, photos=photos, start=start,
            )
        with step("nightly flow (ingest, label, build, gate, publish, report)"):
            night = run_nightly(run_date=world_summary.first_scoring_date, landing=world, warehouse=wh)
    except (NightlyError, ValueError) as exc:
        raise DemoError(str(exc)) from exc
    timings.update({f"  {k}": v for k, v in night["step_seconds"].items()})

    tables = warehouse_tables(wh)
    echo("")
    echo(f"{'ingested':<12} {'read':>10} {'accepted':>10} {'rejected':>10}")
    for table, rows in (night["ingest"] or {}).items():
        echo(f"{table:<12} {rows['read']:>10,} {rows['accepted']:>10,} {rows['rejected']:>10,}")
    echo("")
    echo("dbt build: " + ", ".join(f"{k} {v}" for k, v in sorted(night["dbt_counts"].items())))
    echo("")
    echo(f"{'table':<32} {'kind':<6} {'rows':>12}")
    for t in tables:
        echo(f"{t.schema + '.' + t.name:<32} {'view' if t.kind == 'VIEW' else 'table':<6} {t.rows:>12,}")
    echo("")
    echo(night_summary(wh))
    echo("")
    echo("Each recommender alone and the meta model on the last evaluation days (model_evaluation; new_sales = the")
    echo("sales in their first days, ranked among themselves):")
    echo(format_evaluation(read_evaluation(wh)))
    echo("")
    echo(f"warehouse:  {wh}")
    echo(f"world:      {world} (raw contract files; truth/ holds the hidden variables)")
    echo(f"images:     {world / 'images'} ({world_summary.n_images:,} images: {world_summary.photo_mode})")
    echo(f"night:      {night['run_date']} published (run {night['run_id']})")
    echo(f"serving:    {night['serving_db']}  (BI tools: duckdb -readonly; Parquet beside it in tables/)")
    echo(f"report:     {night['report_path']}  (open it in a browser, from disk)")
    echo("timings:    " + ", ".join(f"{k.strip()} {v:.1f}s" for k, v in timings.items()))
    return tables
