"""Progress of long steps: a bar on a terminal, periodic log lines in a non-interactive run (cron, CI, Prefect).

    with progress("visits", total=days, unit="days") as bar:
        for day in ...:
            bar.advance()

On a terminal (stderr is a TTY) this draws a rich progress bar. Otherwise it logs through the `vitrine` logger a
line at the start, one each time another `every_percent` of the total is done or `every_seconds` have passed since
the last line, and one at the end, so that a log file shows the step moving without one line per item.
`VITRINE_PROGRESS=bar|log|off` overrides the choice.

A quiet console (:func:`quiet_console`, what `vitrine demo` and `vitrine nightly` run in unless --verbose): the
process's stdout and stderr (file descriptors 1 and 2: Python, Prefect, dbt, TensorFlow's C++ logs, subprocesses)
go to a log file, and the terminal gets only the steps (:func:`console_line`), their progress (a bar on a
terminal, a few lines per step otherwise) and what the command prints through :attr:`QuietConsole.out`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar

logger = logging.getLogger("vitrine.progress")

Mode = Literal["bar", "log", "off"]
T = TypeVar("T")

# A quiet console's progress lines when it is not a terminal: one each time another CONSOLE_EVERY_PERCENT of a
# step is done or CONSOLE_EVERY_SECONDS have passed, and one at the end (the log file gets the finer lines).
CONSOLE_EVERY_PERCENT = 50.0
CONSOLE_EVERY_SECONDS = 60.0
# Log files of quiet runs kept in a logs folder (the oldest beyond this are removed when a run starts).
KEEP_LOGS = 30
# TensorFlow's C++ logging in a quiet run: its INFO lines dropped, its warnings and errors in the log file.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "1"}


@dataclass
class QuietConsole:
    """The terminal of a quiet run: ``err`` for the steps and their progress, ``out`` for the command's output."""

    log_path: Path
    log: TextIO
    out: TextIO
    err: TextIO


_quiet: QuietConsole | None = None
_live_lock = threading.RLock()
_live: Any = None  # the rich Progress that draws every bar of the moment (nested steps add a row to it)
_live_users = 0


def quiet() -> QuietConsole | None:
    """The quiet console in force, if any."""
    return _quiet


def progress_mode() -> Mode:
    """bar on an interactive terminal, log otherwise; VITRINE_PROGRESS overrides."""
    forced = os.environ.get("VITRINE_PROGRESS", "").strip().lower()
    if forced in ("bar", "log", "off"):
        return forced  # type: ignore[return-value]
    terminal = _quiet.err if _quiet is not None else sys.stderr
    return "bar" if _isatty(terminal) else "log"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Tracker:
    """What a step reports through: advance(n) or update(completed)."""

    def __init__(
        self, description: str, total: int | None, *, unit: str, every_percent: float, every_seconds: float,
        emit: Callable[[str], None], clock: Callable[[], float] = time.monotonic, lines_at_end: bool = True,
    ) -> None:
        self.description = description
        self.total = total if total and total > 0 else None
        self.unit = unit
        self.completed = 0
        self._emit = emit
        self._clock = clock
        self._every_percent = every_percent
        self._every_seconds = every_seconds
        self._lines_at_end = lines_at_end  # False: no periodic line once the total is reached (finish() says it)
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
        if self.total is not None and completed > self.total:
            self.total = completed  # more done than announced (dbt counts fewer nodes than it runs): 100% here
        if self._on_change is not None:
            self._on_change(completed)
        if not self._lines_at_end and self.total is not None and completed >= self.total:
            return
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
    """A progress reporter for one step (see the module docstring). `emit` replaces the logger (tests).

    Under a quiet console the logger's lines go to the log file, and the terminal gets a bar (a TTY) or a line
    every CONSOLE_EVERY_PERCENT / CONSOLE_EVERY_SECONDS and one at the end.
    """
    chosen = mode or progress_mode()
    say = emit or logger.info
    if chosen == "off":
        yield Tracker(description, total, unit=unit, every_percent=0, every_seconds=float("inf"), emit=lambda _: None)
        return
    console = _quiet if emit is None else None
    if chosen == "log":
        tracker = Tracker(description, total, unit=unit, every_percent=every_percent, every_seconds=every_seconds,
                          emit=say)
        shown: Tracker | None = None
        if console is not None:
            shown = Tracker(description, total, unit=unit, every_percent=CONSOLE_EVERY_PERCENT,
                            every_seconds=max(every_seconds, CONSOLE_EVERY_SECONDS), emit=console_line,
                            lines_at_end=False)

            def forward(completed: int, shown: Tracker = shown) -> None:
                shown.detail = tracker.detail
                shown.update(completed)

            tracker._on_change = forward
        tracker.start()
        yield tracker
        tracker.finish()
        if shown is not None:
            shown.detail = tracker.detail
            shown.finish()
        return

    if console is not None:  # the bar on the terminal, the lines in the log file
        tracker = Tracker(description, total, unit=unit, every_percent=every_percent, every_seconds=every_seconds,
                          emit=say)
        tracker.start()
    else:
        tracker = Tracker(description, total, unit=unit, every_percent=0, every_seconds=float("inf"),
                          emit=lambda _: None)
    with _bar_row(description, total) as (bar, task):
        tracker._on_change = lambda completed: bar.update(task, completed=completed, total=tracker.total,
                                                          detail=tracker.detail)
        yield tracker
        bar.update(task, completed=tracker.completed, total=tracker.total, detail=tracker.detail)
    if console is not None:
        tracker.finish()


@contextmanager
def _bar_row(description: str, total: int | None) -> Iterator[tuple[Any, Any]]:
    """A row of the rich Progress on the terminal: the first step starts it, a nested step (labelling inside the
    dbt build) adds its row, the last one to finish stops it (finished rows stay on the screen)."""
    global _live, _live_users
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with _live_lock:
        if _live is None:
            columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       TextColumn("{task.fields[detail]}")]
            if _quiet is not None:  # draw on the terminal; what the process prints goes to the log file
                _live = Progress(*columns, console=Console(file=_quiet.err), transient=False,
                                 redirect_stdout=False, redirect_stderr=False)
            else:
                _live = Progress(*columns, transient=False)
            _live.start()
        _live_users += 1
        bar = _live
        task = bar.add_task(description, total=total, detail="")
    try:
        yield bar, task
    finally:
        with _live_lock:
            _live_users -= 1
            if _live_users == 0:
                bar.stop()
                _live = None


def console_line(text: str) -> None:
    """A line for the terminal of a quiet run (a step starts, a step's progress); nothing otherwise (the loggers'
    own lines are on the console then)."""
    console = _quiet
    if console is None:
        return
    with _live_lock:
        if _live is not None:
            _live.console.print(text, markup=False, highlight=False)
            return
    console.err.write(text + "\n")
    console.err.flush()


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


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to whatever sys.stderr is when a line is emitted, never to a stream bound once: a CLI
    called in-process (tests, notebooks) must not leave a handler on a stream that was swapped and closed since."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(level: int = logging.INFO) -> None:
    """Send the `vitrine` loggers' lines to stderr (the command line), unless something configured them already."""
    root = logging.getLogger("vitrine")
    if root.handlers:
        return
    handler = _StderrHandler()
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


def log_path(warehouse: Path, command: str, *, now: datetime | None = None) -> Path:
    """Where a quiet run of `vitrine COMMAND` on ``warehouse`` writes its log: ``logs/`` beside the warehouse file,
    ``vitrine-COMMAND-YYYYMMDD-HHMMSS.log`` (local time)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return warehouse.parent / "logs" / f"vitrine-{command}-{stamp}.log"


@contextmanager
def quiet_console(path: Path, *, keep: int = KEEP_LOGS) -> Iterator[QuietConsole]:
    """Run the block with file descriptors 1 and 2 writing to the log file ``path`` (appended to), and the
    terminal reserved for :func:`console_line`, the progress bars and ``QuietConsole.out``.

    Afterwards the descriptors are restored, and the logging handlers that wrote to stdout or stderr (Prefect's
    console handler, whose temporary server logs its shutdown when the process exits) keep writing to the log file.
    The loggers themselves are untouched: a Prefect server still gets every line of the flow run. Sets
    QUIET_ENVIRONMENT (unless already set) and removes the oldest logs of the folder beyond ``keep``.
    """
    global _quiet
    if _quiet is not None:
        raise RuntimeError(f"a quiet console is already in force (log {_quiet.log_path})")
    path.parent.mkdir(parents=True, exist_ok=True)
    _prune_logs(path.parent, keep - 1)
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    log = path.open("a", encoding="utf-8", buffering=1)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    out = os.fdopen(os.dup(saved[1]), "w", encoding=encoding, errors="backslashreplace", buffering=1)
    err = os.fdopen(os.dup(saved[2]), "w", encoding=encoding, errors="backslashreplace", buffering=1)
    for fd in (1, 2):
        os.dup2(log.fileno(), fd)
    _quiet = QuietConsole(log_path=path, log=log, out=out, err=err)
    try:
        yield _quiet
    finally:
        _quiet = None
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):
                stream.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        for stream in (out, err):
            stream.close()
        _handlers_to(log)


def _handlers_to(log: TextIO) -> None:
    """Point the logging handlers that write to stdout or stderr at ``log`` (Prefect's console handler draws through
    a rich Console of its own: that one too)."""
    std = {id(s) for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__) if s is not None}
    loggers = [logging.getLogger(), *(obj for obj in logging.Logger.manager.loggerDict.values()
                                      if isinstance(obj, logging.Logger))]
    for each in loggers:
        for handler in each.handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler) \
                    and id(handler.stream) in std:
                handler.setStream(log)
                rich_console = getattr(handler, "console", None)
                if rich_console is not None and hasattr(rich_console, "file"):
                    rich_console.file = log


def _prune_logs(folder: Path, keep: int) -> None:
    logs = sorted(folder.glob("vitrine-*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in logs[max(keep, 0):]:
        old.unlink(missing_ok=True)
