"""Checking every file before anything is loaded: empty files, headers against the contract, checksums.

The checksum (sha256 of the file's bytes) is what makes an ingest idempotent: a file already recorded in
``raw.ingested_files`` is skipped whole. For a plain CSV the same pass counts its newlines, so the loader can tell
whether every record sits on one physical line (the condition for exact line numbers of the rows it accepts).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np

from vitrine.contract import Table

from .discover import SourceFile

_CHUNK = 1 << 22
_NEWLINE = 10


@dataclass(frozen=True)
class FileDigest:
    """Size, sha256 and (plain CSV only) newline count of a file."""

    size: int
    sha256: str
    newlines: int | None
    ends_with_newline: bool


@dataclass(frozen=True)
class FileCheck:
    """A file that passed the pre-check: where each contract column is in it, and what it has beyond."""

    source: SourceFile
    digest: FileDigest
    header: tuple[str, ...]  # column names as the file has them
    positions: dict[str, int]  # contract column -> index in ``header`` (absent: optional column not in the file)
    extra_columns: tuple[str, ...]
    missing_optional: tuple[str, ...]


def digest_file(source: SourceFile) -> FileDigest:
    """sha256 of the bytes; for a plain CSV also the number of newlines (one pass over the file).

    The hash runs in a helper thread while this one counts newlines (both release the GIL).
    """
    sha = hashlib.sha256()
    count_newlines = source.fmt == "csv" and not source.compressed
    newlines = size = 0
    last = b""
    pending: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1) as pool, open(source.path, "rb", buffering=0) as fh:
        while chunk := fh.read(_CHUNK):
            if pending is not None:
                pending.result()
            pending = pool.submit(sha.update, chunk)
            size += len(chunk)
            last = chunk[-1:]
            if count_newlines:
                newlines += int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == _NEWLINE))
        if pending is not None:
            pending.result()
    return FileDigest(size, sha.hexdigest(), newlines if count_newlines else None, last == b"\n")


def _normalise(name: str) -> str:
    return name.strip().lower()


def read_header(source: SourceFile, con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Column names of a file: the first CSV record (UTF-8, BOM allowed), or the Parquet schema."""
    if source.fmt == "parquet":
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(source.path)]).fetchall()
        return tuple(str(r[0]) for r in rows)
    opener = gzip.open if source.compressed else open
    with opener(source.path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        first = next(csv.reader(text), [])
    return tuple(first)


def check_file(
    source: SourceFile, table: Table, digest: FileDigest, con: duckdb.DuckDBPyConnection
) -> tuple[FileCheck | None, list[str]]:
    """The file's header against the contract: (the check, []) or (None, problems naming the file)."""
    try:
        header = read_header(source, con)
    except (OSError, EOFError, duckdb.Error) as exc:
        return None, [f"{source.rel}: cannot read the file ({type(exc).__name__}: {exc})".strip()]
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(_normalise(name), i)
    missing = [c.name for c in table.columns if c.required and c.name not in positions]
    if missing:
        return None, [f"{source.rel}: missing required column(s) {', '.join(missing)} for table {table.name}"]
    contract = set(table.column_names)
    extra = tuple(h for h in header if _normalise(h) not in contract)
    names = [_normalise(h) for h in header]
    dupes = sorted({n for n in names if n in contract and names.count(n) > 1})
    if dupes:
        return None, [f"{source.rel}: column(s) {', '.join(dupes)} appear more than once in the header"]
    check = FileCheck(
        source=source,
        digest=digest,
        header=header,
        positions={c: positions[c] for c in table.column_names if c in positions},
        extra_columns=extra,
        missing_optional=tuple(c.name for c in table.columns if not c.required and c.name not in positions),
    )
    return check, []
