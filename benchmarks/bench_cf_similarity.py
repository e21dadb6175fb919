"""CF similarity alone: int_cf_similarity's SQL as it is now, a baseline version of it, and the scipy reference.

    .venv/bin/python benchmarks/bench_cf_similarity.py --warehouse W.duckdb [--days 1|31] [--baseline REV] [--runs 3]

W is a warehouse with the staging models built (e.g. a copy of the 1 M-customer bench warehouse; this script adds
and drops tables in it). The inputs of int_cf_similarity are built first for the chosen night (`--days 1`: tonight
only, vars training_days 0 and evaluation_days 0, as bench_recommenders.py; `--days 31`: the nightly run's scoring
days, training_days 30 and evaluation_days 7), unless --no-build. Then, `--runs` times in turn: each SQL version
(the model's text in the working tree, and at git revision REV, default main, each compiled by dbt as an inline
query, so that every scoring day is computed even where the warehouse holds the model) as one
`create table ... as` on DuckDB with the profile's settings (2 threads, VITRINE_DUCKDB_MEMORY_LIMIT), and the scipy
reference (bench_recommenders.cosine_top_k_pairs, X^T X per scoring day from the visit spells valid that day, the
loading untimed). Prints the median seconds, the pair counts, and compares the two SQL outputs row for row (the
same rows, co_visitors and ranks, similarities within 1e-12).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import duckdb
import numpy as np
import yaml
from bench_recommenders import cosine_top_k_pairs
from harness import ROOT, run_cli

MODEL = "dbt_project/models/intermediate/int_cf_similarity.sql"
NIGHTS = {1: {"training_days": 0, "evaluation_days": 0}, 31: {"training_days": 30, "evaluation_days": 7}}


def compile_sql(warehouse: Path, variables: dict[str, object], text: str) -> str:
    """A version of the model (its text) compiled by dbt for `warehouse` with `variables`, as an inline query: not
    incremental, so every scoring day is computed even where the warehouse holds the model's table."""
    from dbt.cli.main import dbtRunner

    from vitrine.config import DBT_PROJECT_DIR, PROFILES_DIR
    from vitrine.dbt_runner import dbt_on_warehouse

    with dbt_on_warehouse(warehouse):
        result = dbtRunner().invoke(["compile", "--inline", text, "--vars", json.dumps(variables),
                                     "--log-level", "none", "--project-dir", str(DBT_PROJECT_DIR),
                                     "--profiles-dir", str(PROFILES_DIR)])
    if not result.success:
        raise SystemExit(f"dbt compile failed: {result.exception}")
    return next(r.node.compiled_code for r in result.result.results)


def connect(warehouse: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(warehouse), read_only=read_only)
    con.execute(f"set threads = 2; set TimeZone = 'UTC'; "
                f"set memory_limit = '{os.environ.get('VITRINE_DUCKDB_MEMORY_LIMIT', '5GB')}'")
    return con


def time_sql(warehouse: Path, table: str, sql: str) -> float:
    with connect(warehouse) as con:
        t0 = time.perf_counter()
        con.execute(f"create or replace table main.{table} as {sql}")
        return time.perf_counter() - t0


def spell_days(warehouse: Path, lookback: int) -> tuple[dict[str, np.ndarray], list[tuple[int, np.ndarray]]]:
    """The visit spells (validity as day numbers from the first scoring day) and each scoring day's open sales."""
    with connect(warehouse, read_only=True) as con:
        first = "(select min(scored_for) from main.int_scoring_days)"
        spells = con.execute(
            f"select user_id, sale_id, date_diff('day', {first}, first_visited_on) + 1 as valid_from, "
            f"date_diff('day', {first}, last_visited_on) + {lookback} as valid_to from main.int_user_sale_spells"
        ).fetchnumpy()
        days = con.execute(f"select date_diff('day', {first}, scored_for) as day_no, list(sale_id) as sales "
                           "from main.int_open_sales group by all order by day_no").fetchall()
    return spells, [(day, np.array(sales)) for day, sales in days]


def scipy_seconds(spells: dict[str, np.ndarray], days: list[tuple[int, np.ndarray]], top_k: int,
                  min_covisits: int) -> tuple[float, int]:
    seconds, pairs = 0.0, 0
    for day, open_sales in days:
        valid = (spells["valid_from"] <= day) & (spells["valid_to"] >= day)
        users, sales = spells["user_id"][valid], spells["sale_id"][valid]
        t0 = time.perf_counter()
        pairs += cosine_top_k_pairs(users, sales, open_sales, top_k, min_covisits)
        seconds += time.perf_counter() - t0
    return seconds, pairs


def compare(warehouse: Path, baseline: str, current: str) -> str:
    with connect(warehouse, read_only=True) as con:
        keys = "scored_for, sale_id, neighbour_sale_id"
        rows_a, rows_b, mismatches, worst = con.execute(f"""
            select
                (select count(*) from main.{baseline}),
                (select count(*) from main.{current}),
                count(*) filter (where a.sale_id is null or b.sale_id is null or a.co_visitors <> b.co_visitors
                                 or a.neighbour_rank <> b.neighbour_rank or abs(a.similarity - b.similarity) > 1e-12),
                coalesce(max(abs(a.similarity - b.similarity)), 0)
            from main.{baseline} as a
            full join main.{current} as b using ({keys})
        """).fetchone()
    return (f"baseline {rows_a:,} rows, current {rows_b:,} rows: {mismatches} rows differ "
            f"(max |similarity difference| {worst:.3g})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--days", type=int, choices=sorted(NIGHTS), default=1)
    parser.add_argument("--baseline", default="main", help="git revision of the baseline model (default: main)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-build", action="store_true", help="the model's inputs are already built for --days")
    args = parser.parse_args()
    warehouse, variables = args.warehouse.resolve(), NIGHTS[args.days]

    if not args.no_build:
        wall, _, _ = run_cli(["build", "--warehouse", str(warehouse), "--select", "+int_cf_similarity",
                              "--exclude", "test_type:unit", "tag:images", "--vars", json.dumps(variables)])
        print(f"inputs built for {args.days} scoring day(s) in {wall:.0f}s (untimed)")
    baseline_text = subprocess.run(["git", "show", f"{args.baseline}:{MODEL}"], cwd=ROOT, check=True,
                                   capture_output=True, text=True).stdout
    versions = {"baseline": compile_sql(warehouse, variables, baseline_text),
                "current": compile_sql(warehouse, variables, (ROOT / MODEL).read_text())}
    project_vars = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    top_k, min_covisits = project_vars["cf_top_k"], project_vars["cf_min_covisits"]
    spells, days = spell_days(warehouse, project_vars["cf_lookback_days"])

    seconds: dict[str, list[float]] = {"baseline": [], "current": [], "scipy": []}
    for _ in range(args.runs):
        for name, sql in versions.items():
            seconds[name].append(time_sql(warehouse, f"cf_bench_{name}", sql))
        reference, pairs = scipy_seconds(spells, days, top_k, min_covisits)
        seconds["scipy"].append(reference)
    print(compare(warehouse, "cf_bench_baseline", "cf_bench_current"))
    with connect(warehouse) as con:
        sql_pairs = con.execute("select count(*) from main.cf_bench_current").fetchone()[0]
        con.execute("drop table main.cf_bench_baseline; drop table main.cf_bench_current")

    scipy = statistics.median(seconds["scipy"])
    print(f"\nCF similarity, {args.days} scoring day(s), {len(days)} with open sales; median of {args.runs} runs "
          f"(load avg {os.getloadavg()[0]:.1f}); pairs: SQL {sql_pairs:,}, scipy {pairs:,}")
    print(f"{'version':<34} {'median s':>9} {'/ scipy':>8}  runs")
    for name, label in [("baseline", f"SQL at {args.baseline}"), ("current", "SQL now"), ("scipy", "scipy reference")]:
        median = statistics.median(seconds[name])
        runs = ", ".join(f"{s:.2f}" for s in seconds[name])
        print(f"{label:<34} {median:>9.2f} {median / scipy:>8.2f}  {runs}")


if __name__ == "__main__":
    main()
