"""Benchmark of one night: wall time and peak memory of each step of the nightly flow on the demo-size world.

    .venv/bin/python benchmarks/bench_nightly.py [--users 2000 --days 120 --sales-per-day 20 --seed 7] [--workdir DIR]
        [--rerun] [--world DIR] [--previous-night] [--prefect-server]

Simulates the world (its own process), then runs `vitrine nightly --landing WORLD` as its own process, as a user
does. Each step's peak resident memory is the flow process's own during that step (sampled, see
vitrine/nightly/memory.py; Prefect's temporary server is another process and not counted); the last line is the
whole run (os.wait4's ru_maxrss), which includes the start of Prefect's temporary server. `--rerun` runs the same
night a second time (nothing new to ingest or label: the incremental cost). `--world DIR` skips the simulation and
runs the night on a world simulated before (e.g. the 1 M-customer world of bench_foundation / bench_recommenders:
`vitrine simulate --users 1000000 --days 90 --sales-per-day 55 --seed 7`), its first scoring date from world.json.
`--previous-night` measures a night in the steady state: the world's events are split into a landing without its
last day and a landing of the last day only (the other files are the same, so the second ingest skips them); the
night before (the last day's date) runs first on the first landing and computes every history day, then the timed
night (the first scoring date) ingests the last day and computes only the days the as-of models do not hold yet
(tonight, yesterday, the day that stops being an evaluation day; macros/as_of_days.sql).
`--prefect-server` runs the nights against a Prefect server started beforehand (as README "Scheduling the night"
sets production up: `prefect server start`, then PREFECT_API_URL), instead of the temporary server each
`vitrine nightly` starts on its own (its start is part of every run). The server is another process: its memory
is not in the peaks, its CPU is on the same cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
from harness import ROOT, run_cli

PHOTOS = ROOT.parent / "shared" / "datasets" / "scene-photos"


def _night(world: Path, warehouse: Path, run_date: str) -> tuple[float, float, dict]:
    wall, rss, text = run_cli(["nightly", "--landing", str(world), "--warehouse", str(warehouse),
                               "--date", run_date, "--json"])
    return wall, rss, json.loads(text[text.index("{\n  \"run_id\""):])  # after any log line on stdout


# the flow's log line for a finished dbt node: "... success model int_candidates in 6.92s: OK"
NODE_LINE = re.compile(r" - (?:success|pass|warn|fail|error) (model|test|seed) (\S+) in ([0-9.]+)s")


def _slowest_nodes(warehouse: Path, top: int = 12) -> None:
    """The night's slowest dbt models from its log (the newest under the warehouse's logs/), and the tests' total."""
    logs = sorted((warehouse.parent / "logs").glob("vitrine-nightly-*.log"))
    if not logs:
        return
    models: dict[str, float] = {}
    tests = 0.0
    for kind, name, seconds in NODE_LINE.findall(logs[-1].read_text()):
        if kind == "test":
            tests += float(seconds)
        else:
            models[name] = float(seconds)
    print("slowest models (s; dbt runs two at a time): " + ", ".join(
        f"{name} {seconds:.1f}" for name, seconds in sorted(models.items(), key=lambda m: -m[1])[:top]))
    print(f"all models {sum(models.values()):.1f} s, all data tests {tests:.1f} s")


def _split_landings(world: Path, workdir: Path, last_day: str) -> tuple[Path, Path]:
    """Two landings: the world without the events of last_day, and the world with only them (same other files)."""
    before, last = workdir / "landing_before", workdir / "landing_last_day"
    for landing in (before, last):
        shutil.rmtree(landing, ignore_errors=True)
        landing.mkdir(parents=True)
        for item in world.iterdir():
            if item.name not in {"visits.csv", "purchases.csv", "truth", "world.json"}:
                (landing / item.name).symlink_to(item.resolve())
    con = duckdb.connect()
    for table, column in (("visits", "visited_at"), ("purchases", "purchased_at")):
        source = f"read_csv('{world / (table + '.csv')}', header = true, all_varchar = true)"
        for landing, test in ((before, "<"), (last, "=")):
            con.execute(f"copy (select * from {source} where cast(cast({column} as timestamp) as date) {test} "
                        f"date '{last_day}') to '{landing / (table + '.csv')}' (header true)")
    con.close()
    return before, last


def _cpu_probe() -> float:
    """Seconds for a fixed single-core loop: this machine's speed at the time (a shared host's speed varies), to
    compare runs made at different times."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


@contextlib.contextmanager
def _prefect_server(home: Path) -> Iterator[str]:
    """A Prefect server on a free loopback port, with its database under `home`; yields its API URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    log = open(home / "server.log", "w")  # noqa: SIM115 (closed below, after the server)
    server = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start", "--host",
                               "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Prefect server did not start: see {home / 'server.log'}")
            time.sleep(1)
        print(f"Prefect server at {url} (PREFECT_HOME {home})")
        yield url
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=30)
        if server.poll() is None:
            server.kill()
        log.close()


def _print(title: str, wall: float, rss: float, summary: dict) -> None:
    print(f"\n{title}: night {summary['run_date']}, run {summary['run_id']}")
    print(f"{'step':<22} {'wall s':>8} {'peak RSS GiB':>13}")
    for step, seconds in summary["step_seconds"].items():
        print(f"{step:<22} {seconds:>8.1f} {summary['step_peak_rss_mib'].get(step, 0) / 1024:>13.2f}")
    steps = sum(summary["step_seconds"].values())
    print(f"{'(Prefect, imports)':<22} {wall - steps:>8.1f}")
    print(f"{'whole run':<22} {wall:>8.1f} {rss:>13.2f}")
    counts = summary["counts"]
    print(f"customers scored {counts['customers_scored']:,}, candidates {counts['candidates_scored']:,}, images "
          f"{counts['images']:,}, dbt nodes {sum(summary['dbt_counts'].values()):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--sales-per-day", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="kept afterwards when given")
    parser.add_argument("--rerun", action="store_true", help="run the same night again (incremental cost)")
    parser.add_argument("--world", type=Path, default=None,
                        help="a world simulated before (its folder, with world.json): no simulation")
    parser.add_argument("--previous-night", action="store_true",
                        help="run the night before first, without the last day's events: time a following night")
    parser.add_argument("--prefect-server", action="store_true",
                        help="run the nights against a Prefect server started first (as in production)")
    args = parser.parse_args()
    args.workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="vitrine-bench-nightly-"))).resolve()
    with contextlib.ExitStack() as stack:
        if args.prefect_server:
            os.environ["PREFECT_API_URL"] = stack.enter_context(_prefect_server(args.workdir / "prefect-server"))
        _bench(args)


def _bench(args: argparse.Namespace) -> None:
    workdir = args.workdir
    world, warehouse = workdir / "world", workdir / "wh" / "vitrine.duckdb"
    shutil.rmtree(warehouse.parent / "serving", ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    os.environ.setdefault("VITRINE_PROGRESS", "log")

    if args.world:
        world = args.world.resolve()
        simulated = json.loads((world / "world.json").read_text())
        print(f"world {world}: {simulated['counts']['users']:,} customers, {simulated['counts']['visits']:,} visits, "
              f"{simulated['n_images']:,} images ({simulated['photo_mode']}); load average {os.getloadavg()[0]:.1f}")
    else:
        shutil.rmtree(world, ignore_errors=True)
        photos = ["--photos", str(PHOTOS)] if PHOTOS.is_dir() else []
        wall, rss, text = run_cli(["simulate", "--out", str(world), "--users", str(args.users), "--days",
                                   str(args.days), "--sales-per-day", str(args.sales_per_day), "--seed",
                                   str(args.seed), "--json", *photos])
        simulated = json.loads(text)
        print(f"simulate: {wall:.1f}s, peak RSS {rss:.2f} GiB, {simulated['counts']['visits']:,} visits, "
              f"{simulated['n_images']:,} images ({simulated['photo_mode']}); load average {os.getloadavg()[0]:.1f}")

    print(f"CPU probe (10 M-step Python loop, lower is faster): {_cpu_probe():.2f} s")
    night = simulated["first_scoring_date"]
    if args.previous_night:
        last_day = (date.fromisoformat(night) - timedelta(days=1)).isoformat()
        before, world = _split_landings(world, workdir, last_day)
        wall, rss, summary = _night(before, warehouse, last_day)
        _print("the night before (every history day computed)", wall, rss, summary)
        _slowest_nodes(warehouse)
    wall, rss, summary = _night(world, warehouse, night)
    _print("following night (one day of events)" if args.previous_night else "first night", wall, rss, summary)
    _slowest_nodes(warehouse)
    if args.rerun:
        wall, rss, summary = _night(world, warehouse, night)
        _print("same night again", wall, rss, summary)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}, CPU probe after: {_cpu_probe():.2f} s "
          "(2 cores shared: compare runs with care)")


if __name__ == "__main__":
    main()
