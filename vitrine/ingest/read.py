"""Reading one file into a temporary table, in file order: VARCHAR values, typed values, row reason.

CSV goes through DuckDB's ``read_csv`` with every column VARCHAR, an explicit dialect (comma, double quotes,
header line) and ``store_rejects``: a line that DuckDB cannot split into the header's fields (wrong number of
fields, invalid UTF-8, broken quoting) lands in a rejects table with its physical line number; it is kept here as
one row per line with a readable reason. The good rows keep file order (a pure projection with
``preserve_insertion_order``), so the rowid gives good row k (1-based), and its line is

    L(k) = k + 1 + #{i : r_i - i - 1 < k}

with r_1 < r_2 < ... the rejected line numbers and the header on line 1 (exact when every record is one physical
line; the loader notes files where the newline count says otherwise). The ``gaps`` rows (g_i = r_i - i - 1, i)
let an ASOF join add that count. Parquet is read with every column cast to VARCHAR; line = file_row_number + 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from vitrine.contract import Table

from .check import FileCheck
from .sqltext import ident, lit
from .validate import row_select_sql, v_col


@dataclass
class StagedFile:
    """One file read into a temp table (VARCHAR columns, typed columns, ``_reason``) plus its structural rejects."""

    check: FileCheck
    index: int  # the file's number among its table's files in this ingest (``_file``)
    src: str  # temp table, in file order
    rows: int = 0  # rows DuckDB could split into fields
    base_rowid: int = 0  # rowid of the first row of ``src`` (rowids are contiguous, in file order)
    rejects: str | None = None  # temp table (line, csv_line, reason): structurally broken lines, one row each
    reject_lines: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.rows + self.reject_lines

    def select_sql(self, table: Table) -> str:
        """(_file, _k, _line0, _v_<col>..., <col>..., _reason): _k counts rows from 0; _line0 is the line
        before the structural-reject offsets."""
        k = f"(rowid - {self.base_rowid})"
        line0 = "_frn + 1" if self.check.source.fmt == "parquet" else f"{k} + 2"
        cols = ", ".join([v_col(c) for c in table.column_names] + [ident(c) for c in table.column_names])
        return f"SELECT {self.index} AS _file, {k} AS _k, {line0} AS _line0, {cols}, _reason FROM {self.src}"

    def gaps_sql(self) -> str | None:
        """(_file, g, c): after g good rows, c lines had been rejected (None without structural rejects)."""
        if not self.rejects:
            return None
        return (
            f"SELECT {self.index} AS _file, line - row_number() OVER w - 1 AS g, row_number() OVER w AS c "
            f"FROM {self.rejects} WINDOW w AS (ORDER BY line)"
        )


_REJECT_REASON = r"""
    CASE
        WHEN list_contains(types, 'INVALID ENCODING') OR list_contains(types, 'INVALID UNICODE')
            THEN 'invalid UTF-8'
        WHEN list_contains(types, 'TOO MANY COLUMNS') OR list_contains(types, 'MISSING COLUMNS')
            THEN 'wrong number of fields' || coalesce(
                ' (expected ' || nullif(regexp_extract(message, 'Expected Number of Columns: (\d+)', 1), '')
                || ', found ' || nullif(regexp_extract(message, 'Found: (\d+)', 1), '') || ')', '')
        WHEN list_contains(types, 'UNQUOTED VALUE') THEN 'malformed quoting'
        WHEN list_contains(types, 'LINE SIZE OVER MAXIMUM') THEN 'line too long'
        ELSE 'unreadable line (' || lower(array_to_string(types, ', ')) || ')'
    END"""


def _reader_sql(check: FileCheck, table: Table, errors: str, scans: str) -> str:
    """SELECT of the contract columns as ``_v_<col>`` VARCHAR (NULL for an optional column the file lacks)."""
    source = check.source
    path = lit(str(source.path))
    if source.fmt == "parquet":
        proj = ", ".join(
            (f"CAST({ident(check.header[check.positions[c]])} AS VARCHAR)" if c in check.positions else "NULL")
            + f"::VARCHAR AS {v_col(c)}"
            for c in table.column_names
        )
        return f"SELECT file_row_number AS _frn, {proj} FROM read_parquet({path}, file_row_number = true)"
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(max(len(check.header), 1))) + "}"
    proj = ", ".join(
        (f"c{check.positions[c]}" if c in check.positions else "NULL::VARCHAR") + f" AS {v_col(c)}"
        for c in table.column_names
    )
    return (
        f"SELECT {proj} FROM read_csv({path}, columns = {columns}, header = true, delim = ',', quote = '\"', "
        "escape = '\"', auto_detect = false, null_padding = false, "
        f"compression = {lit('gzip' if source.compressed else 'none')}, "
        f"store_rejects = true, rejects_table = {lit(errors)}, rejects_scan = {lit(scans)})"
    )


def stage_file(con: duckdb.DuckDBPyConnection, check: FileCheck, table: Table, index: int, prefix: str) -> StagedFile:
    """Read the file into ``{prefix}_src`` (row checks included) and its broken lines into ``{prefix}_rej``."""
    staged = StagedFile(check, index, f"{prefix}_src")
    errors, scans = f"{prefix}_rej_errors", f"{prefix}_rej_scans"
    reader = _reader_sql(check, table, errors, scans)
    select = row_select_sql(table, reader, carry=("_frn",) if check.source.fmt == "parquet" else ())
    con.execute(f"CREATE TEMP TABLE {staged.src} AS {select}")
    rows, base = con.execute(f"SELECT count(*), coalesce(min(rowid), 0) FROM {staged.src}").fetchone() or (0, 0)
    staged.rows, staged.base_rowid = int(rows), int(base)
    if check.source.fmt == "csv":
        if (con.execute(f"SELECT count(*) FROM {errors}").fetchone() or (0,))[0]:
            staged.rejects = f"{prefix}_rej"
            con.execute(
                f"CREATE TEMP TABLE {staged.rejects} AS SELECT line, csv_line, {_REJECT_REASON} AS reason FROM ("
                "SELECT line, any_value(csv_line) AS csv_line, "
                "list(DISTINCT error_type::VARCHAR ORDER BY error_type::VARCHAR) AS types, "
                f"any_value(error_message) AS message FROM {errors} GROUP BY line)"
            )
            staged.reject_lines = int((con.execute(f"SELECT count(*) FROM {staged.rejects}").fetchone() or (0,))[0])
        con.execute(f"DROP TABLE IF EXISTS {errors}")
        con.execute(f"DROP TABLE IF EXISTS {scans}")
    _note_line_count(staged)
    return staged


def _note_line_count(staged: StagedFile) -> None:
    """Note a plain CSV whose physical line count differs from its record count (line numbers may be off)."""
    digest = staged.check.digest
    if digest.newlines is None or digest.size == 0:
        return
    physical = digest.newlines + (0 if digest.ends_with_newline else 1)
    records = 1 + staged.rows + staged.reject_lines
    if physical != records:
        staged.notes.append(
            f"{staged.check.source.rel}: {physical} physical lines for {records} records (blank lines or "
            "line breaks inside quoted values): line numbers after the first of them may be off"
        )
