"""The warehouse's ``raw`` schema: one typed table per contract table plus the ingest bookkeeping tables.

``raw.<table>``: the contract columns with their contract types, then the lineage columns ``_batch_id``,
``_source_file`` (path relative to the batch's source_dir), ``_line`` (line in that file; Parquet: row number + 1)
and ``_ingested_at``. No keys: entity tables keep every version (staging picks the latest by
``_batch_id, _source_file, _line``).
"""

from __future__ import annotations

import duckdb

from vitrine.contract import TABLES, Table

from .sqltext import ident

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_batch_id", "BIGINT"),
    ("_source_file", "VARCHAR"),
    ("_line", "BIGINT"),
    ("_ingested_at", "TIMESTAMP"),
)

BOOKKEEPING_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS raw.rejects (
        batch_id BIGINT, table_name VARCHAR, source_file VARCHAR, line BIGINT,
        payload VARCHAR, reason VARCHAR, rejected_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS raw.ingest_batches (
        batch_id BIGINT, ingested_at TIMESTAMP, source_dir VARCHAR, images_root VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS raw.ingested_files (
        batch_id BIGINT, table_name VARCHAR, path VARCHAR, sha256 VARCHAR,
        rows_read BIGINT, rows_accepted BIGINT, rows_rejected BIGINT)""",
)


def raw_table_ddl(table: Table) -> str:
    """CREATE TABLE IF NOT EXISTS for ``raw.<table>``."""
    cols = [f"{ident(c.name)} {c.sql_type}" for c in table.columns]
    cols += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS raw.{ident(table.name)} ({', '.join(cols)})"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and all its tables when missing (idempotent)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table in TABLES:
        con.execute(raw_table_ddl(table))
    for ddl in BOOKKEEPING_DDL:
        con.execute(ddl)
