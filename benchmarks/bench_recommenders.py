"""Benchmark of the SQL recommenders at scale: wall time and peak memory of each step, and CF against scipy.

    .venv/bin/python benchmarks/bench_recommenders.py [--users 1000000 --days 90 --sales-per-day 55] [--workdir DIR]

Steps (each a `vitrine build` process, as a user runs it; peak memory = that process's max RSS):
  scoring one date   every recommender and signal for tonight's active customers -> recommender_scores
  training set       negative sampling over 30 history days -> training_examples
  evaluation         every open sale ranked by each recommender and the meta model on 7 days -> model_evaluation
                     (the meta model is trained on the 14 training days before them: training_days 21)
Images excluded: labelling the world's photos with the CNN (bench_nightly.py times it) and
fitting the themes is done once, untimed, in the setup (`vitrine build --select +int_sale_themes`, also when a
reused warehouse lacks int_sale_themes); the timed steps run with `--exclude tag:images`, so they read the image
family of the content profiles from those tables instead of labelling again (labelling is incremental by content
hash anyway: a nightly run labels only the new photos).
Per-model times come from dbt's run_results.json. The scipy reference computes the same item-item cosine for
tonight (X^T X over the sales open tonight, normalised, top-K per sale) from tonight's window rows (every active
customer's, int_user_window_sales), in memory; the SQL reads the visit spells (int_user_sale_spells).
The SQL's time is dbt's execution time of int_cf_similarity inside the build, with another model running beside it
on the 2 threads: benchmarks/bench_cf_similarity.py times the model alone (the measurement of the CF target).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import scipy.sparse as sp
from harness import ROOT, run_cli

RUN_RESULTS = ROOT / "dbt_project" / "target" / "run_results.json"


def node_seconds() -> dict[str, float]:
    """Seconds of each model and data test (tests as `test: name`) of the last build."""
    results = json.loads(RUN_RESULTS.read_text())["results"]
    seconds = {}
    for r in results:
        kind, name = r["unique_id"].split(".")[0], r["unique_id"].split(".")[2]
        if kind in {"model", "test"}:
            seconds[name if kind == "model" else f"test: {name}"] = r["execution_time"]
    return seconds


def scipy_reference(warehouse: Path, top_k: int, min_covisits: int) -> tuple[float, int]:
    """Item-item cosine for tonight's open sales with scipy.sparse, from the window rows dbt computed."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        night = "(select scored_for from main.int_scoring_days where is_nightly)"
        users, sales = con.execute(
            f"select user_id, sale_id from main.int_user_window_sales where scored_for = {night}"
        ).fetchnumpy().values()
        open_sales = con.execute(f"select sale_id from main.int_open_sales where scored_for = {night}").fetchnumpy()[
            "sale_id"
        ]
    t0 = time.perf_counter()
    pairs = cosine_top_k_pairs(users, sales, open_sales, top_k, min_covisits)
    return time.perf_counter() - t0, pairs


def cosine_top_k_pairs(users: np.ndarray, sales: np.ndarray, open_sales: np.ndarray, top_k: int,
                       min_covisits: int) -> int:
    """The item-item cosine of one day with scipy.sparse (X^T X over the open sales, normalised, top-K per sale) from
    its (user, sale) window rows; returns the number of neighbour pairs kept."""
    user_index, u = np.unique(users, return_inverse=True)
    sale_index, s = np.unique(sales, return_inverse=True)
    x = sp.csr_matrix((np.ones(len(u), dtype=np.float32), (u, s)), shape=(len(user_index), len(sale_index)))
    open_columns = np.flatnonzero(np.isin(sale_index, open_sales))
    co = (x.T @ x[:, open_columns]).tocsc()  # all sales i x open sales j: co-visitor counts
    visitors = np.asarray(x.sum(axis=0)).ravel()
    pairs = 0
    for col, j in enumerate(open_columns):
        start, end = co.indptr[col], co.indptr[col + 1]
        rows, counts = co.indices[start:end], co.data[start:end]
        keep = (rows != j) & (counts >= min_covisits)
        rows, counts = rows[keep], counts[keep]
        sims = counts / np.sqrt(visitors[rows] * visitors[j])
        pairs += min(top_k, len(sims))  # the top-K selection itself: argpartition
        if len(sims) > top_k:
            np.argpartition(-sims, top_k)[:top_k]
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--sales-per-day", type=int, default=55)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="reused (world and warehouse) when given")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitrine-bench-"))
    world, warehouse = workdir / "world", workdir / "bench.duckdb"
    if not (warehouse.exists() and (world / "world.json").exists()):
        shutil.rmtree(world, ignore_errors=True)
        warehouse.unlink(missing_ok=True)
        run_cli(["simulate", "--out", str(world), "--users", str(args.users), "--days", str(args.days),
                 "--sales-per-day", str(args.sales_per_day), "--seed", str(args.seed)])
        run_cli(["ingest", str(world), "--warehouse", str(warehouse)])
        run_cli(["build", "--warehouse", str(warehouse), "--select", "staging"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        themed = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'main' "
            "and table_name = 'int_sale_themes'"
        ).fetchone()[0]
    if not themed:  # the images, once and untimed: label the photos and fit the themes
        wall, _, _ = run_cli(["build", "--warehouse", str(warehouse), "--select", "+int_sale_themes",
                              "--exclude", "test_type:unit"])
        print(f"setup (untimed): images labelled and themes fitted in {wall:.0f}s")

    rows: list[tuple[str, float, float, str]] = []

    def step(name: str, select: str, variables: dict[str, int]) -> dict[str, float]:
        load = os.getloadavg()[0]
        wall, rss, _ = run_cli(["build", "--warehouse", str(warehouse), "--select", select,
                                "--exclude", "test_type:unit", "tag:images", "--vars", json.dumps(variables)])
        seconds = node_seconds()
        models = sum(v for k, v in seconds.items() if not k.startswith("test: "))
        tests = sum(seconds.values()) - models
        notes = f"models {models:.1f}s, tests {tests:.1f}s; load avg {load:.1f} -> {os.getloadavg()[0]:.1f}"
        rows.append((name, wall, rss, notes))
        return seconds

    tonight = step("scoring one date", "+recommender_scores", {"training_days": 0, "evaluation_days": 0})
    cf_seconds = tonight["int_user_sale_spells"] + tonight["int_cf_similarity"]
    reference, pairs = scipy_reference(warehouse, top_k=50, min_covisits=2)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sql_pairs = con.execute("select count(*) from main.int_cf_similarity").fetchone()[0]
        scored = con.execute("select count(*), count(distinct user_id) from main.recommender_scores").fetchone()
    rows.insert(0, ("  CF similarity (SQL)", tonight["int_cf_similarity"], float("nan"),
                    f"{sql_pairs:,} neighbour pairs; +visit spells {tonight['int_user_sale_spells']:.1f}s"))
    rows.insert(1, ("  CF similarity (scipy)", reference, float("nan"),
                    f"{pairs:,} pairs; SQL/scipy = {tonight['int_cf_similarity'] / reference:.2f}"))
    rows[-1] = (*rows[-1][:3], rows[-1][3] + f"; {scored[0]:,} scores for {scored[1]:,} customers")
    step("training set (30 days)", "+training_examples", {"training_days": 30, "evaluation_days": 0})
    # model_evaluation also ranks by the meta model, trained on the training days that are not evaluation days (the
    # last meta_validation_days = 7 of them choose C): 7 evaluation days need 14 more training days
    step("evaluation (7 days, meta)", "+model_evaluation", {"training_days": 21, "evaluation_days": 7})

    print(f"\nworld: {args.users:,} users, {args.days} days, {args.sales_per_day} sales/day; {os.cpu_count()} cores")
    print(f"{'step':<26} {'wall s':>8} {'peak GiB':>9}  notes")
    for name, wall, rss, notes in rows:
        print(f"{name:<26} {wall:>8.1f} {rss:>9.2f}  {notes}")
    print("\nslowest models and tests of tonight's scoring:")
    for model, seconds in sorted(tonight.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {model[:72]:<72} {seconds:>7.1f}s")
    print(f"(CF total incl. visit spells: {cf_seconds:.1f}s)")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
