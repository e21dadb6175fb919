"""Finding the files of one ingest folder: which contract table each file feeds, and what is ignored.

A table ``T`` of the contract is fed by ``T.csv``, ``T.csv.gz``, ``T.parquet`` at the top of the folder, and by the
files with those suffixes inside a sub-folder ``T/`` (not recursive). Everything else is listed as ignored, except
the image root. Files of a table are processed in the order of their relative paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vitrine.contract import TABLES_BY_NAME

Format = Literal["csv", "parquet"]

# suffix -> (format, gzip-compressed)
SUFFIXES: dict[str, tuple[Format, bool]] = {
    ".csv": ("csv", False),
    ".csv.gz": ("csv", True),
    ".parquet": ("parquet", False),
}


@dataclass(frozen=True)
class SourceFile:
    """One data file of the folder, and the contract table it feeds."""

    table: str
    path: Path  # absolute
    rel: str  # relative to the ingest folder, POSIX separators: what raw tables and rejects record
    fmt: Format
    compressed: bool = False


@dataclass
class Discovery:
    """The folder's files per contract table (in load order of the contract), and the ignored entries."""

    files: dict[str, list[SourceFile]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def split_suffix(name: str) -> tuple[str, Format, bool] | None:
    """``visits.csv.gz`` -> (``visits``, ``csv``, True); None for a name without a supported suffix."""
    lowered = name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix) and len(name) > len(suffix):
            fmt, compressed = SUFFIXES[suffix]
            return name[: -len(suffix)], fmt, compressed
    return None


def discover(folder: Path, images_root: Path | None = None) -> Discovery:
    """Map the folder's entries to contract tables; list what is not a table's file as ignored."""
    folder = folder.resolve()
    found: dict[str, list[SourceFile]] = {}
    ignored: list[str] = []
    images = images_root.resolve() if images_root is not None else None

    def add(table: str, path: Path, fmt: Format, compressed: bool) -> None:
        rel = path.relative_to(folder).as_posix()
        found.setdefault(table, []).append(SourceFile(table, path, rel, fmt, compressed))

    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.is_dir():
            if entry.resolve() == images or (images is None and entry.name == "images"):
                continue
            if entry.name in TABLES_BY_NAME:
                for inner in sorted(entry.iterdir(), key=lambda p: p.name):
                    parsed = split_suffix(inner.name)
                    if inner.is_file() and parsed is not None and not inner.name.startswith("."):
                        add(entry.name, inner, parsed[1], parsed[2])
                    else:
                        ignored.append(inner.relative_to(folder).as_posix() + ("/" if inner.is_dir() else ""))
            else:
                ignored.append(entry.name + "/")
            continue
        parsed = split_suffix(entry.name)
        if entry.is_file() and parsed is not None and parsed[0] in TABLES_BY_NAME:
            add(parsed[0], entry, parsed[1], parsed[2])
        else:
            ignored.append(entry.name)

    ordered = {name: sorted(found[name], key=lambda f: f.rel) for name in TABLES_BY_NAME if name in found}
    return Discovery(files=ordered, ignored=ignored)
