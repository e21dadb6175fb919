"""What a dbt Python model reads and returns, on either engine.

A model's logic is one pure function of pandas frames that returns an Arrow table (vitrine.vision.warehouse,
vitrine.themes.warehouse, vitrine.meta.warehouse). The thin model files in python_models/ hand it its inputs with
:func:`to_pandas` and return its result through :func:`model_result`: unchanged for DuckDB (dbt-duckdb writes Arrow
tables itself), as a Spark DataFrame with the same column types on Spark.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa


def is_spark(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark")


def to_pandas(relation: Any) -> pd.DataFrame:
    """A DuckDB relation (`.df()`) or a Spark DataFrame (`.toPandas()`) as a pandas frame."""
    if hasattr(relation, "toPandas"):
        return relation.toPandas()
    return relation.df()


def model_result(table: pa.Table, session: Any, *, replaces: tuple[str, str, Any] | None = None) -> Any:
    """The value a dbt Python model returns for `table` on `session`'s engine.

    `replaces` = (this, key, value), for an incremental model whose rows for one value of `key` (tonight's) replace
    the stored ones: DuckDB deletes and inserts them (delete+insert on `key`); Spark's Parquet tables cannot delete,
    so there the result is the whole table, the stored rows of the other values and these, which the model's
    insert_overwrite strategy writes over the table. A value of None replaces nothing (every stored row stays).
    """
    if not is_spark(session):
        return table
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = from_arrow_schema(table.schema)
    frame = session.createDataFrame(table.to_pandas() if table.num_rows else [], schema)
    if replaces is None:
        return frame
    this, key, value = replaces
    from pyspark.sql import functions as F

    stored = session.table(this)
    kept = (stored if value is None else stored.where(F.col(key) != F.lit(value))).select(*schema.names)
    return kept.unionByName(frame)
