"""Peak resident memory of this process during a block (Linux: /proc/self/statm sampled by a thread)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident set size now (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


@dataclass
class Peak:
    bytes: int = 0

    @property
    def mib(self) -> float:
        return self.bytes / 2**20


@contextmanager
def peak_rss(interval: float = 0.1) -> Iterator[Peak]:
    """Yield a Peak that holds the highest RSS seen while the block runs (sampled every `interval` seconds)."""
    peak = Peak(rss_bytes())
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            peak.bytes = max(peak.bytes, rss_bytes())

    thread = threading.Thread(target=sample, name="vitrine-peak-rss", daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak.bytes = max(peak.bytes, rss_bytes())
