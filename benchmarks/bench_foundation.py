"""Benchmark of the foundation: simulate, ingest and build a large world; wall time and peak memory per step.

    .venv/bin/python benchmarks/bench_foundation.py [--users 1000000 --days 90 --sales-per-day 55] [--workdir DIR]

Each step runs as its own process (the `vitrine` CLI, as a user runs it) so that its peak resident memory is its
own (os.wait4's ru_maxrss). The ingest's rows per second count every row read from every file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from harness import ROOT, run_cli

PHOTOS = ROOT.parent / "shared" / "datasets" / "scene-photos"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--sales-per-day", type=int, default=55)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--workdir", type=Path, default=None, help="kept afterwards when given")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitrine-bench-"))
    world, warehouse = workdir / "world", workdir / "bench.duckdb"
    shutil.rmtree(world, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    photos = ["--photos", str(PHOTOS)] if PHOTOS.is_dir() else []

    rows: list[tuple[str, float, float, str]] = []
    wall, rss, text = run_cli([
        "simulate", "--out", str(world), "--users", str(args.users), "--days", str(args.days),
        "--sales-per-day", str(args.sales_per_day), "--seed", str(args.seed), "--format", args.format, "--json",
        *photos,
    ])
    counts = json.loads(text)["counts"]
    total = sum(counts.values())
    rows.append(("simulate", wall, rss, f"{total:,} rows, {counts['visits']:,} visits"))

    wall, rss, text = run_cli(["ingest", str(world), "--warehouse", str(warehouse), "--json"])
    report = json.loads(text)
    read = sum(t["rows_read"] for t in report["tables"].values())
    rows.append(("ingest", wall, rss, f"{read:,} rows read, {read / wall / 1e6:.2f} M rows/s"))

    wall, rss, text = run_cli(["ingest", str(world), "--warehouse", str(warehouse), "--json"])
    rows.append(("ingest again (no-op)", wall, rss, "all files skipped by content hash"))

    wall, rss, text = run_cli(["build", "--warehouse", str(warehouse), "--select", "staging"])
    rows.append(("dbt build staging + tests", wall, rss, text.strip().splitlines()[-1]))

    print(f"\nworld: {args.users:,} users, {args.days} days, {args.sales_per_day} sales/day, {args.format}; "
          f"{os.cpu_count()} cores")
    print(f"{'step':<28} {'wall s':>8} {'peak GiB':>9}  notes")
    for name, wall, rss, notes in rows:
        print(f"{name:<28} {wall:>8.1f} {rss:>9.2f}  {notes}")
    for table, t in report["tables"].items():
        print(f"  {table:<14} read {t['rows_read']:>12,}  accepted {t['rows_accepted']:>12,}  "
              f"rejected {t['rows_rejected']:>8,}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
