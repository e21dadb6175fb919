"""Shared by the benchmark scripts: run a `vitrine` command as its own process and measure it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(args: list[str]) -> tuple[float, float, str]:
    """Run `python -m vitrine.cli ARGS`; return (wall seconds, peak RSS in GiB, stdout).

    Peak RSS is the child's own (os.wait4's ru_maxrss, KiB on Linux), not the benchmark script's.
    """
    return run_python(["-m", "vitrine.cli", *args])


def run_python(args: list[str]) -> tuple[float, float, str]:
    """Run `python ARGS` as its own process; return (wall seconds, peak RSS in GiB, stdout)."""
    with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"`python {' '.join(args)}` failed:\n{text[-3000:]}\n{errors[-3000:]}")
    return wall, usage.ru_maxrss / 2**20, text
