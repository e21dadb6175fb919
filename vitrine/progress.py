"""Progress of long steps: a bar on a terminal, periodic log lines in a non-interactive run (cron, CI, Prefect).

    with progress("visits", total=days, unit="days") as bar:
        for day in ...:
            bar.advance()

On a terminal (stderr is a TTY) this draws a rich progress bar. Otherwise it logs through the `vitrine` logger a
line at the start, one each time another `every_percent` of the total is done or `every_seconds` have passed since
the last line, and one at the end, so that a log file shows the step moving without one line per item.
`VITRINE_PROGRESS=bar|log|off` overrides the choice.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

logger = logging.getLogger("vitrine.progress")

Mode = Literal["bar", "log", "off"]
T = TypeVar("T")


def progress_mode() -> Mode:
    """bar on an interactive terminal, log otherwise; VITRINE_PROGRESS overrides."""
    forced = os.environ.get("VITRINE_PROGRESS", "").strip().lower()
    if forced in ("bar", "log", "off"):
        return forced  # type: ignore[return-value]
    return "bar" if sys.stderr.isatty() else "log"


class Tracker:
    """What a step reports through: advance(n) or update(completed)."""

    def __init__(
        self, description: str, total: int | None, *, unit: str, every_percent: float, every_seconds: float,
        emit: Callable[[str], None], clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.description = description
        self.total = total if total and total > 0 else None
        self.unit = unit
        self.completed = 0
        self._emit = emit
        self._clock = clock
        self._every_percent = every_percent
        self._every_seconds = every_seconds
        self._started = clock()
        self._last_line = self._started
        self._last_step = 0  # index of the last every_percent step logged
        self._on_change: Callable[[int], None] | None = None
        self.detail = ""  # a short status shown after the count (e.g. "loss 0.41, val top-1 0.62")

    def note(self, detail: str) -> None:
        """Show ``detail`` beside the count from now on (the bar redraws; a log line carries it)."""
        self.detail = detail
        if self._on_change is not None:
            self._on_change(self.completed)

    def advance(self, n: int = 1) -> None:
        self.update(self.completed + n)

    def update(self, completed: int) -> None:
        self.completed = completed
        if self._on_change is not None:
            self._on_change(completed)
        now = self._clock()
        step = self._step()
        if step > self._last_step or now - self._last_line >= self._every_seconds:
            self._last_step = max(step, self._last_step)
            self._last_line = now
            self._emit(self._line())

    def _step(self) -> int:
        if self.total is None or self._every_percent <= 0:
            return 0
        return int(100 * min(self.completed, self.total) / self.total // self._every_percent)

    def _line(self) -> str:
        elapsed = self._clock() - self._started
        detail = f": {self.detail}" if self.detail else ""
        if self.total is None:
            return f"{self.description}: {self.completed:,} {self.unit} ({elapsed:.0f}s){detail}"
        pct = 100 * self.completed / self.total
        return (f"{self.description}: {self.completed:,}/{self.total:,} {self.unit} ({pct:.0f}%, {elapsed:.0f}s)"
                f"{detail}")

    def start(self) -> None:
        total = f"{self.total:,} {self.unit}" if self.total is not None else self.unit
        self._emit(f"{self.description}: started ({total})")

    def finish(self) -> None:
        elapsed = self._clock() - self._started
        detail = f": {self.detail}" if self.detail else ""
        self._emit(f"{self.description}: done, {self.completed:,} {self.unit} in {elapsed:.1f}s{detail}")


@contextmanager
def progress(
    description: str, total: int | None = None, *, unit: str = "items", every_percent: float = 10,
    every_seconds: float = 30.0, mode: Mode | None = None, emit: Callable[[str], None] | None = None,
) -> Iterator[Tracker]:
    """A progress reporter for one step (see the module docstring). `emit` replaces the logger (tests)."""
    chosen = mode or progress_mode()
    say = emit or logger.info
    if chosen == "off":
        yield Tracker(description, total, unit=unit, every_percent=0, every_seconds=float("inf"), emit=lambda _: None)
        return
    if chosen == "log":
        tracker = Tracker(description, total, unit=unit, every_percent=every_percent, every_seconds=every_seconds,
                          emit=say)
        tracker.start()
        yield tracker
        tracker.finish()
        return

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[detail]}")]
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(description, total=total, detail="")
        tracker = Tracker(description, total, unit=unit, every_percent=0, every_seconds=float("inf"),
                          emit=lambda _: None)
        tracker._on_change = lambda completed: bar.update(task, completed=completed, detail=tracker.detail)
        yield tracker
        bar.update(task, completed=tracker.completed)


def track(
    items: Iterable[T], description: str, total: int | None = None, *, unit: str = "items", **options: object,
) -> Iterator[T]:
    """Iterate over `items`, reporting one unit of progress per item."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress(description, total, unit=unit, **options) as bar:  # type: ignore[arg-type]
        for item in items:
            yield item
            bar.advance()


def configure_logging(level: int = logging.INFO) -> None:
    """Send the `vitrine` loggers' lines to stderr (the command line), unless something configured them already."""
    root = logging.getLogger("vitrine")
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("vitrine-cli")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)


def detach_cli_logging() -> None:
    """Remove configure_logging's handler (inside a Prefect flow, Prefect's own handlers print the lines)."""
    root = logging.getLogger("vitrine")
    for handler in list(root.handlers):
        if handler.get_name() == "vitrine-cli":
            root.removeHandler(handler)
