"""The raw contract in Spark: the batches the ingest accepted into the DuckDB landing file, appended to Spark tables.

`vitrine ingest` stays the one place where the contract is checked (types, keys, rejects with their reason) and
where batches are numbered; on the Spark target it loads into the DuckDB file as always, and this module then
appends every batch that Spark does not hold yet to the same tables in Spark's `raw` database, through Parquet
files (DuckDB writes them, Spark reads them: no row passes through Python). Append-only, like the raw schema: a
rerun copies nothing twice.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

RAW_SCHEMA = "raw"
# Each raw table and the column that holds its ingest batch.
BATCH_COLUMNS = {
    "ingest_batches": "batch_id",
    "ingested_files": "batch_id",
    "rejects": "batch_id",
    "sales": "_batch_id",
    "users": "_batch_id",
    "sale_images": "_batch_id",
    "visits": "_batch_id",
    "purchases": "_batch_id",
}


@dataclass(frozen=True)
class RawCopy:
    table: str
    rows: int  # rows appended tonight
    batches: list[int]


def copy_raw_to_spark(landing: Path, spark: SparkSession, *, scratch: Path | None = None) -> list[RawCopy]:
    """Append to spark `raw.<table>` the batches of the DuckDB file `landing` that it lacks; one RawCopy per table."""
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    # DuckDB's TIMESTAMP (no zone, UTC by the contract) as Spark's TIMESTAMP: a Hive metastore table cannot hold
    # the TIMESTAMP_NTZ that Spark would infer from the Parquet files
    spark.conf.set("spark.sql.parquet.inferTimestampNTZ.enabled", "false")
    copies: list[RawCopy] = []
    with tempfile.TemporaryDirectory(prefix="vitrine-raw-", dir=scratch) as tmp, \
            duckdb.connect(str(landing), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        for table, batch_column in BATCH_COLUMNS.items():
            exists = con.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [RAW_SCHEMA, table],
            ).fetchone()[0]
            if not exists:
                raise FileNotFoundError(f"{landing} has no table {RAW_SCHEMA}.{table}: run `vitrine ingest` first")
            target, source = f"{RAW_SCHEMA}.{table}", f'"{catalog}".{RAW_SCHEMA}.{table}'
            done = _batches_in_spark(spark, target, batch_column)
            new = [b for (b,) in con.execute(
                f"select distinct {batch_column} from {source} order by 1").fetchall() if b not in done]
            if not new and spark.catalog.tableExists(target):
                copies.append(RawCopy(table, 0, []))
                continue
            folder = Path(tmp) / table
            listed = ", ".join(str(b) for b in new) or "null"
            con.execute(f"copy (select * from {source} where {batch_column} in ({listed})) "
                        f"to '{folder}' (format parquet, per_thread_output true)").fetchall()
            frame = spark.read.parquet(str(folder))
            frame.write.mode("append").format("parquet").saveAsTable(target)
            rows = con.execute(
                f"select count(*) from {source} where {batch_column} in ({listed})").fetchone()[0]
            copies.append(RawCopy(table, int(rows), new))
            shutil.rmtree(folder, ignore_errors=True)
    return copies


def _batches_in_spark(spark: SparkSession, table: str, batch_column: str) -> set[int]:
    if not spark.catalog.tableExists(table):
        return set()
    return {int(r[0]) for r in spark.sql(f"select distinct {batch_column} from {table}").collect() if r[0] is not None}


def sync_raw(warehouse: Path) -> list[RawCopy]:
    """Bring the Spark tables beside `warehouse` (spark_target) up to the raw batches ingested into it."""
    from vitrine.spark.session import spark_session, spark_target

    with spark_target(warehouse) as spark_dir:
        return copy_raw_to_spark(warehouse, spark_session(spark_dir), scratch=spark_dir)
