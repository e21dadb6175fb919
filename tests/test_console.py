"""The console of `vitrine nightly` (and `vitrine demo`): the steps, a few progress lines and the summary on the
console, every Prefect, dbt and TensorFlow line in a log file beside the warehouse; `--verbose` prints them all as
before; a failed night says at which step, why, and where the full log is.

The command runs for real in a subprocess (stdout and stderr a pipe, as in CI and cron: progress as lines, not a
bar) on the small world of tests/nightly_world.py: a quiet first night (ingest, label, build...), the same night
again with --verbose, and meanwhile, on another warehouse, a night whose landing folder holds an empty file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from nightly_world import TEST_PREFECT_HOME

from vitrine.progress import console_line, detach_cli_logging, log_path, progress, quiet_console
from vitrine.simulate import simulate_world

# Prefect's databases for these runs (each run starts a temporary server; two never share a SQLite file), kept
# between sessions like the test process's own.
CONSOLE_PREFECT_HOME = Path(f"{TEST_PREFECT_HOME}-console")
MAX_QUIET_LINES = 30  # a handful per step; the verbose run prints hundreds (a few per dbt node)
PER_TASK = ("Finished in state", "Task run '")  # Prefect's lines of each task run
DBT_NODE = re.compile(r"\b(success model|pass test|success seed) \S+ in \d")  # a dbt node's result line
LOG_LINE = re.compile(r"^log: (\S+\.log) ", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    code: int
    output: str  # stdout and stderr as a terminal shows them (one pipe)

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


@dataclass(frozen=True)
class Runs:
    warehouse: Path
    run_date: str
    quiet: Run
    verbose: Run
    failed: Run


def _start(*args: str, prefect_home: Path = CONSOLE_PREFECT_HOME) -> subprocess.Popen[str]:
    env = {**os.environ, "PREFECT_HOME": str(prefect_home)}
    env.pop("VITRINE_PROGRESS", None)  # not a terminal: periodic lines
    return subprocess.Popen([sys.executable, "-m", "vitrine.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def _finish(proc: subprocess.Popen[str]) -> Run:
    try:
        output, _ = proc.communicate(timeout=900)
    finally:
        proc.kill()
    return Run(proc.returncode, output)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    work = tmp_path_factory.mktemp("console")
    world = simulate_world(work / "world", users=200, days=40, sales_per_day=5, seed=11, start=date(2026, 1, 1))
    landing = work / "landing-bad"
    landing.mkdir()
    (landing / "visits.csv").write_bytes(b"")
    failing = _start("nightly", "--warehouse", str(work / "other" / "vitrine.duckdb"), "--landing", str(landing),
                     prefect_home=Path(f"{CONSOLE_PREFECT_HOME}-failed"))
    warehouse = work / "wh" / "vitrine.duckdb"
    night = ["nightly", "--warehouse", str(warehouse), "--date", world.first_scoring_date.isoformat()]
    quiet = _finish(_start(*night, "--landing", str(world.out)))
    failed = _finish(failing)
    verbose = _finish(_start(*night, "--verbose"))
    return Runs(warehouse, world.first_scoring_date.isoformat(), quiet, verbose, failed)


def _log_of(run: Run) -> Path:
    found = LOG_LINE.search(run.output)
    assert found, f"no `log: PATH` line:\n{run.output}"
    return Path(found[1])


def test_a_quiet_night_prints_its_steps_and_summary_in_a_few_lines(runs: Runs) -> None:
    run = runs.quiet
    assert run.code == 0, run.output
    assert len(run.lines) <= MAX_QUIET_LINES, run.output
    for step in ("label new images", "dbt build", "quality gate", "publish", "report"):
        assert f"==> {step}" in run.lines, run.output
    assert re.search(r"^dbt build: nodes: \d+/\d+ nodes \(\d+%", run.output, re.MULTILINE), run.output
    assert f"night {runs.run_date} published" in run.output
    assert re.search(r"^  ranked by: +(meta|single)_\S+ \(", run.output, re.MULTILINE), run.output
    assert run.lines[-1].strip().startswith("log:"), run.output  # the summary ends the output, with the log
    for noise in PER_TASK:
        assert noise not in run.output, run.output
    assert not DBT_NODE.search(run.output), run.output
    assert "prefect" not in run.output.lower().replace("--verbose", ""), run.output


def test_the_log_file_beside_the_warehouse_holds_every_line(runs: Runs) -> None:
    path = _log_of(runs.quiet)
    assert path.parent == runs.warehouse.parent / "logs" and path.name.startswith("vitrine-nightly-")
    log = path.read_text()
    assert all(noise in log for noise in PER_TASK)
    assert DBT_NODE.search(log)
    assert "Starting temporary server" in log and "Stopping temporary server" in log  # even at the process's exit
    assert "==> dbt build" in log and "dbt build: nodes: started" in log  # the steps and finer progress too


def test_verbose_prints_everything_on_the_console(runs: Runs) -> None:
    run = runs.verbose
    assert run.code == 0, run.output
    assert all(noise in run.output for noise in PER_TASK)
    assert DBT_NODE.search(run.output)
    assert f"night {runs.run_date} published" in run.output
    assert not LOG_LINE.search(run.output)
    assert len(run.lines) > 10 * MAX_QUIET_LINES


def test_a_failed_night_prints_the_step_the_reason_and_the_log(runs: Runs) -> None:
    run = runs.failed
    assert run.code == 1, run.output
    assert "nightly failed: night failed at step ingest: IngestError" in run.output, run.output
    assert "visits.csv" in run.output
    full = re.search(r"^full log: (\S+)$", run.output, re.MULTILINE)
    assert full and full[1] == str(_log_of(run)), run.output
    assert "Traceback" in Path(full[1]).read_text()  # the whole story is in the log
    assert len(run.lines) <= 10, run.output
    for noise in PER_TASK:
        assert noise not in run.output, run.output


def test_quiet_console_sends_file_descriptors_to_the_log_and_keeps_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In process: what C code or a subprocess writes to fds 1 and 2 lands in the log; the step lines and the coarse
    progress lines reach the terminal; the descriptors are restored afterwards."""
    monkeypatch.setenv("VITRINE_PROGRESS", "log")
    # as in a fresh process: a CLI called in-process by an earlier test leaves its stderr handler on `vitrine`,
    # which writes to pytest's sys.stderr (not file descriptor 2, as on a real command line)
    detach_cli_logging()
    path = log_path(tmp_path / "vitrine.duckdb", "test")
    with quiet_console(path) as console:
        os.write(1, b"C-level stdout\n")
        os.write(2, b"C-level stderr\n")
        subprocess.run([sys.executable, "-c", "import sys; print('child out'); print('child err', file=sys.stderr)"],
                       check=True)
        console_line("==> a step")
        with progress("work", total=100, unit="items") as bar:
            for _ in range(100):
                bar.advance()
        print("the summary", file=console.out, flush=True)
    os.write(2, b"after\n")
    captured = capfd.readouterr()
    assert captured.out == "the summary\n"
    lines = captured.err.splitlines()
    assert lines[:2] == ["==> a step", "work: 50/100 items (50%, 0s)"] and lines[3:] == ["after"], lines
    assert lines[2].startswith("work: done, 100 items in "), lines
    log = path.read_text()
    assert all(text in log for text in ("C-level stdout", "C-level stderr", "child out", "child err"))
    assert path.parent == tmp_path / "logs"
