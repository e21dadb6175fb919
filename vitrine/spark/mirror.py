"""Spark tables copied into the DuckDB warehouse file, for what reads DuckDB after a Spark build.

The night's quality gate, its publication (Parquet + serving.duckdb) and its report read the public marts, and a few
models they check against, from the DuckDB file. After a build on Spark those tables live in Spark; this module
copies each one over, through Parquet (Spark writes the files, DuckDB reads them: no row passes through Python),
replacing the DuckDB table of the same name. So whatever engine built the night, BI tools read the same layout.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from vitrine.publish import PublicTable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# What the night's checks (vitrine.nightly.steps) and its report (vitrine.report) read from the DuckDB file besides
# the public marts.
NIGHT_TABLES = ("int_scoring_days", "int_night_ranker", "stg_sales", "stg_sale_images", "stg_visits", "stg_purchases")


@dataclass(frozen=True)
class MirroredTable:
    name: str
    rows: int


def mirror_to_duckdb(
    spark: SparkSession,
    tables: Iterable[str],
    warehouse: Path,
    *,
    spark_schema: str,
    duckdb_schema: str = "main",
    scratch: Path | None = None,
) -> list[MirroredTable]:
    """Replace `duckdb_schema.<t>` in the DuckDB file `warehouse` with Spark's `spark_schema.<t>`, for each table.

    All tables are written to Parquet first and then swapped in one DuckDB transaction: a failure leaves every
    DuckDB table as it was.
    """
    names = list(tables)
    # timestamps as Parquet's TIMESTAMP_MICROS (not Spark's legacy INT96), read by DuckDB as TIMESTAMP
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    mirrored: list[MirroredTable] = []
    with tempfile.TemporaryDirectory(prefix="vitrine-mirror-", dir=scratch) as tmp:
        folders = {}
        for name in names:
            folder = Path(tmp) / name
            spark.table(f"{spark_schema}.{name}").write.mode("overwrite").parquet(str(folder))
            folders[name] = folder
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f'create schema if not exists "{duckdb_schema}"').fetchall()
            con.execute("begin transaction").fetchall()
            try:
                for name, folder in folders.items():
                    _drop(con, duckdb_schema, name)
                    files = str(folder / "*.parquet").replace("'", "''")
                    con.execute(f'create or replace table "{duckdb_schema}"."{name}" as '
                                f"select * from read_parquet('{files}')").fetchall()
                    rows = con.execute(f'select count(*) from "{duckdb_schema}"."{name}"').fetchone()[0]
                    mirrored.append(MirroredTable(name, int(rows)))
                con.execute("commit").fetchall()
            except BaseException:
                con.execute("rollback").fetchall()
                raise
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)
    return mirrored


def copy_night_to_duckdb(warehouse: Path, public: list[PublicTable]) -> list[PublicTable]:
    """Copy tonight's Spark build (the public marts and NIGHT_TABLES) into the DuckDB file's main schema; return
    the public marts as they are found there."""
    from vitrine.spark.session import spark_session, spark_target

    schemas = {t.schema for t in public}
    if len(schemas) != 1:
        raise ValueError(f"the public marts are in several Spark schemas ({sorted(schemas)}): expected one")
    with spark_target(warehouse) as spark_dir:
        mirror_to_duckdb(spark_session(spark_dir), [*(t.identifier for t in public), *NIGHT_TABLES], warehouse,
                         spark_schema=schemas.pop(), duckdb_schema="main", scratch=spark_dir)
    return [replace(t, schema="main") for t in public]


def _drop(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> None:
    """Drop `schema.name` whatever it is (a DuckDB build leaves views of the same names: the staging models)."""
    row = con.execute(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ? "
        "and table_catalog = current_database()", [schema, name],
    ).fetchone()
    if row is not None:
        kind = "view" if row[0] == "VIEW" else "table"
        con.execute(f'drop {kind} "{schema}"."{name}"').fetchall()
