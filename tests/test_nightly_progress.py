"""vitrine.progress: periodic log lines in a non-interactive run (by percent and by time), a bar on a terminal."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from vitrine.progress import Tracker, progress, progress_mode, track
from vitrine.simulate import simulate_world


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_every_ten_percent_and_at_the_end() -> None:
    lines: list[str] = []
    with progress("labels", total=200, unit="images", mode="log", emit=lines.append, every_seconds=1e9) as bar:
        for _ in range(200):
            bar.advance()
    assert lines[0] == "labels: started (200 images)"
    assert lines[-1].startswith("labels: done, 200 images in ")
    percents = [line for line in lines[1:-1]]
    assert len(percents) == 10  # 10%, 20%, ... 100%: one line each, not one per item
    assert percents[0].startswith("labels: 20/200 images (10%")
    assert percents[-1].startswith("labels: 200/200 images (100%")


def test_log_lines_every_n_seconds_when_progress_is_slow() -> None:
    clock = FakeClock()
    lines: list[str] = []
    tracker = Tracker("build", total=1000, unit="nodes", every_percent=50, every_seconds=30, emit=lines.append,
                      clock=clock)
    for i in range(10):  # 1% each, one every 10 s: no percent step, a time line every 30 s
        clock.now += 10
        tracker.update(i + 1)
    assert lines == ["build: 3/1,000 nodes (0%, 30s)", "build: 6/1,000 nodes (1%, 60s)",
                     "build: 9/1,000 nodes (1%, 90s)"]


def test_unknown_total_and_the_off_mode() -> None:
    lines: list[str] = []
    assert list(track(iter(range(5)), "rows", mode="log", emit=lines.append, every_seconds=0)) == [0, 1, 2, 3, 4]
    assert lines[0] == "rows: started (items)" and "rows: 5 items" in lines[-2]
    quiet: list[str] = []
    with progress("x", 3, mode="off", emit=quiet.append) as bar:
        bar.advance(3)
    assert quiet == []


def test_mode_follows_the_terminal_and_the_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VITRINE_PROGRESS", raising=False)
    assert progress_mode() == "log"  # pytest captures stderr: not a terminal
    monkeypatch.setenv("VITRINE_PROGRESS", "bar")
    assert progress_mode() == "bar"
    # The bar itself draws through rich without failing.
    with progress("drawn", 4, mode="bar") as bar:
        bar.advance(4)
    assert bar.completed == 4


def test_simulate_reports_its_long_steps_in_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINE_PROGRESS", "log")
    with caplog.at_level(logging.INFO, logger="vitrine"):
        simulate_world(tmp_path / "w", users=20, days=10, sales_per_day=2, seed=1, start=date(2026, 1, 1))
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("vitrine")]
    assert "simulate: events: started (10 days)" in messages
    assert any(m.startswith("simulate: events: 10/10 days (100%") for m in messages)
    assert any(m.startswith("simulate: images: done, ") for m in messages)
