"""Benchmark of the Spark target: a first night on DuckDB and on Spark, per step, on worlds of growing size; and a
standalone Spark cluster of two workers against local[2] on one world.

    .venv/bin/python benchmarks/bench_spark.py [--sizes 10000 100000 1000000] [--days 60 --sales-per-day 20]
        [--workdir DIR] [--cluster-size 10000] [--no-cluster] [--timeout 3600]

For each size: `vitrine simulate` (placeholder images, seed 7), then `vitrine nightly --landing WORLD --target T`
for T = duckdb and spark, each on its own warehouse, each as its own process, as a user runs it. Each step's wall
time comes from the night's summary; its peak memory is the highest resident memory of the night's process tree
(the vitrine process, Spark's JVM and its Python workers, Prefect's temporary server), sampled every 0.5 s and
attributed to the step the night's console says is running. A night that runs past --timeout is stopped and
reported as such. The cluster comparison runs the Spark night again with VITRINE_SPARK_MASTER set to a standalone
master with two workers (one core and half the memory each) started from PySpark's own jars on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import ROOT

PAGE = os.sysconf("SC_PAGE_SIZE")
# the night's steps in the order they run (vitrine/nightly/flow.py)
STEPS = ("ingest", "raw to spark", "label new images", "dbt build", "quality gate", "publish", "report")


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as handle:
                rss[int(entry)] = int(handle.read().split()[1]) * PAGE
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def night(world: Path, workdir: Path, target: str, timeout: float, env: dict[str, str] | None = None) -> dict:
    """One first night of `world` on `target`; its summary, the whole run's wall time and the peaks per step."""
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / f"{target}.duckdb"
    for leftover in (warehouse, workdir / f"{target}.spark", workdir / f"serving-{target}"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        elif leftover.exists():
            leftover.unlink()
    command = [sys.executable, "-m", "vitrine.cli", "nightly", "--landing", str(world), "--warehouse",
               str(warehouse), "--serving", str(workdir / f"serving-{target}"), "--target", target, "--json"]
    peaks: dict[str, float] = {}
    step = ["start"]
    with tempfile.TemporaryFile(mode="w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                env={**os.environ, **(env or {})})
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                peaks[step[0]] = max(peaks.get(step[0], 0.0), _tree_rss(proc.pid) / 2**30)

        def read_steps() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                if line.startswith("==> "):
                    step[0] = line[4:].strip()

        threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=read_steps, daemon=True)]
        for thread in threads:
            thread.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            done.set()
            return {"target": target, "timed_out": True, "wall": time.perf_counter() - started, "peaks": peaks}
        done.set()
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"the {target} night failed:\n{text[-3000:]}")
    summary = json.loads(text[text.index('{\n  "run_id"'):])
    return {"target": target, "timed_out": False, "wall": wall, "peaks": peaks, "summary": summary}


def simulate(size: int, days: int, sales_per_day: int, workdir: Path) -> Path:
    world = workdir / f"world-{size}"
    if not (world / "world.json").exists():
        subprocess.run([sys.executable, "-m", "vitrine.cli", "simulate", "--out", str(world), "--users", str(size),
                        "--days", str(days), "--sales-per-day", str(sales_per_day), "--seed", "7"],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return world


def _step_rows(result: dict) -> dict[str, tuple[float | None, float | None]]:
    seconds = result.get("summary", {}).get("step_seconds", {})
    names = list(dict.fromkeys([*STEPS, *seconds, *result["peaks"]]))
    return {name: (seconds.get(name), result["peaks"].get(name)) for name in names if name != "start"}


def print_size(size: int, results: list[dict]) -> None:
    print(f"\n### {size:,} customers\n")
    print("| step | " + " | ".join(f"{r['target']} wall s | {r['target']} peak GiB" for r in results) + " |")
    print("| --- |" + " --- | --- |" * len(results))
    rows = [_step_rows(r) for r in results]
    for name in dict.fromkeys(n for row in rows for n in row):
        if all(row.get(name, (None, None)) == (None, None) for row in rows):
            continue
        cells = []
        for row in rows:
            wall, peak = row.get(name, (None, None))
            cells.append(f"{wall:.1f}" if wall is not None else "")
            cells.append(f"{peak:.2f}" if peak is not None else "")
        print(f"| {name} | " + " | ".join(cells) + " |")
    whole = []
    for r in results:
        whole.append(f"{r['wall']:.1f}" + (" (stopped: timeout)" if r["timed_out"] else ""))
        whole.append(f"{max(r['peaks'].values(), default=0):.2f}")
    print("| whole run | " + " | ".join(whole) + " |")
    sys.stdout.flush()


@contextmanager
def standalone_cluster(workers: int, cores: int, memory: str, workdir: Path) -> Iterator[str]:
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    spark_class = str(home / "bin" / "spark-class")
    logs = workdir / "cluster-logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes = [subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                   "--port", "7078", "--webui-port", "8091"],
                                  stdout=open(logs / "master.log", "wb"), stderr=subprocess.STDOUT, env=env)]  # noqa: SIM115
    time.sleep(8)
    for i in range(workers):
        processes.append(subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.worker.Worker", "spark://127.0.0.1:7078", "--cores", str(cores),
             "--memory", memory, "--webui-port", str(8092 + i), "--work-dir", str(workdir / f"worker-{i}")],
            stdout=open(logs / f"worker-{i}.log", "wb"), stderr=subprocess.STDOUT, env=env))  # noqa: SIM115
    time.sleep(8)
    try:
        yield "spark://127.0.0.1:7078"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--sales-per-day", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds a night may run before it is stopped")
    parser.add_argument("--cluster-size", type=int, default=10_000, help="the world of the cluster comparison")
    parser.add_argument("--no-cluster", action="store_true")
    args = parser.parse_args()
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="vitrine-bench-spark-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"workdir {workdir}; {os.cpu_count()} cores; worlds of --days {args.days} --sales-per-day "
          f"{args.sales_per_day} --seed 7, placeholder images; a first night each")
    for size in args.sizes:
        world = simulate(size, args.days, args.sales_per_day, workdir)
        counts: dict[str, Any] = json.loads((world / "world.json").read_text())["counts"]
        print(f"\nworld of {size:,} customers: {counts['visits']:,} visits, {counts['purchases']:,} purchases")
        results = [night(world, workdir / f"n-{size}", target, args.timeout) for target in ("duckdb", "spark")]
        print_size(size, results)
    if not args.no_cluster:
        world = simulate(args.cluster_size, args.days, args.sales_per_day, workdir)
        local = night(world, workdir / "c-local", "spark", args.timeout)
        with standalone_cluster(2, 1, "3g", workdir) as master:
            cluster = night(world, workdir / "c-cluster", "spark", args.timeout, env={"VITRINE_SPARK_MASTER": master})
        local["target"], cluster["target"] = "local[2]", "2 workers"
        print_size(args.cluster_size, [local, cluster])


if __name__ == "__main__":
    main()
