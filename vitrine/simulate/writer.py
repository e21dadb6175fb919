"""Files out: the contract tables (CSV or Parquet, streamed), the hidden truth (CSV) and world.json.

Arrow types follow the contract's SQL types (BIGINT -> int64, INTEGER -> int32, DOUBLE -> float64, DATE ->
date32, VARCHAR -> string, TIMESTAMP -> naive timestamp[us] holding UTC in Parquet, ``YYYY-MM-DDTHH:MM:SSZ``
text in CSV). Columns are written in the contract's order with a header row; the same input gives byte-
identical files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from vitrine.contract import TABLES, Table

FileFormat = Literal["csv", "parquet"]
TRUTH_DIR = "truth"
IMAGES_DIR = "images"
WORLD_JSON = "world.json"
TRUTH_FILES = ("sales.csv", "users.csv", "images.csv")
_SECONDS_PER_DAY = 86_400
_TIME_OF_DAY: pa.Array | None = None
_OWN_IMAGE = re.compile(r"^s\d+_\d+\.[A-Za-z0-9]+$")  # image names the simulator writes

ColumnData = np.ndarray | Sequence[str] | pa.Array


def _time_of_day_strings() -> pa.Array:
    """"THH:MM:SSZ" for every second of a day (built once)."""
    global _TIME_OF_DAY
    if _TIME_OF_DAY is None:
        _TIME_OF_DAY = pa.array(
            [f"T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]
        )
    return _TIME_OF_DAY


def iso_utc(seconds: np.ndarray) -> pa.Array:
    """Seconds since 1970-01-01 UTC -> ``YYYY-MM-DDTHH:MM:SSZ`` strings."""
    seconds = np.asarray(seconds, dtype=np.int64)
    day = seconds // _SECONDS_PER_DAY
    unique_days, inverse = np.unique(day, return_inverse=True)
    dates = pa.array(np.datetime_as_string(unique_days.astype("datetime64[D]"), unit="D"))
    date_part = dates.take(pa.array(inverse.ravel()))
    time_part = _time_of_day_strings().take(pa.array(seconds - day * _SECONDS_PER_DAY))
    return pc.binary_join_element_wise(date_part, time_part, "")


def iso_dates(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 -> date32 (written as YYYY-MM-DD in CSV)."""
    return pa.array(np.asarray(days, dtype=np.int64).astype("datetime64[D]"))


def _arrow_column(values: ColumnData, sql_type: str, file_format: FileFormat) -> pa.Array:
    if sql_type == "TIMESTAMP":
        if file_format == "csv":
            return iso_utc(np.asarray(values))
        return pa.array(np.asarray(values, dtype=np.int64).astype("datetime64[s]")).cast(pa.timestamp("us"))
    if sql_type == "DATE":
        return iso_dates(np.asarray(values))
    arrow_type = {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(), "VARCHAR": pa.string()}
    if isinstance(values, pa.Array):
        return values.cast(arrow_type[sql_type])
    return pa.array(values, type=arrow_type[sql_type])


def table_file(out: Path, table: Table | str, file_format: FileFormat) -> Path:
    name = table if isinstance(table, str) else table.name
    return out / f"{name}.{file_format}"


class ContractTableWriter:
    """Streams batches of one contract table into OUT/<table>.<format>, columns in contract order."""

    def __init__(self, out: Path, table: Table, file_format: FileFormat) -> None:
        self.table = table
        self.file_format = file_format
        self.path = table_file(out, table, file_format)
        self.rows = 0
        self._writer: pa_csv.CSVWriter | pq.ParquetWriter | None = None

    def write(self, columns: Mapping[str, ColumnData]) -> None:
        if set(columns) != set(self.table.column_names):
            expected = list(self.table.column_names)
            raise ValueError(f"{self.table.name}: columns {sorted(columns)} != {expected}")
        arrays = [_arrow_column(columns[c.name], c.sql_type, self.file_format) for c in self.table.columns]
        batch = pa.table(arrays, names=list(self.table.column_names))
        if self._writer is None:
            if self.file_format == "csv":
                self._writer = pa_csv.CSVWriter(str(self.path), batch.schema)
            else:
                self._writer = pq.ParquetWriter(str(self.path), batch.schema, compression="zstd")
        self._writer.write_table(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        if self._writer is None:  # no batch at all: still write the header (CSV) or the schema (Parquet)
            self.write({name: [] for name in self.table.column_names})
        assert self._writer is not None
        self._writer.close()


def write_truth_csv(path: Path, columns: Mapping[str, ColumnData]) -> None:
    """A hidden-variables CSV (plain Arrow inference per column; floats should be rounded by the caller)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = [c if isinstance(c, pa.Array) else pa.array(c) for c in columns.values()]
    pa_csv.write_csv(pa.table(arrays, names=list(columns)), str(path))


def write_world_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def clear_previous_world(out: Path) -> None:
    """Remove what an earlier simulation wrote into ``out``: tables (both formats), truth, images, world.json.

    Only files with the simulator's own names are removed, so that a CSV world overwritten by a Parquet one
    (or a larger world by a smaller one) leaves nothing stale for the ingester to pick up.
    """
    for table in TABLES:
        for fmt in ("csv", "parquet"):
            table_file(out, table, fmt).unlink(missing_ok=True)
    for name in TRUTH_FILES:
        (out / TRUTH_DIR / name).unlink(missing_ok=True)
    (out / WORLD_JSON).unlink(missing_ok=True)
    images = out / IMAGES_DIR
    if images.is_dir():
        for p in images.iterdir():
            if p.is_file() and _OWN_IMAGE.match(p.name):
                p.unlink()
