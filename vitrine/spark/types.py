"""Arrow column types as Spark SQL types: the Python models' results keep their declared schemas on Spark."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql.types import DataType, StructType


def spark_type(arrow: pa.DataType) -> DataType:
    from pyspark.sql import types as t

    if pa.types.is_boolean(arrow):
        return t.BooleanType()
    if pa.types.is_int8(arrow) or pa.types.is_int16(arrow) or pa.types.is_int32(arrow):
        return t.IntegerType()
    if pa.types.is_integer(arrow):
        return t.LongType()
    if pa.types.is_float32(arrow):
        return t.FloatType()
    if pa.types.is_floating(arrow):
        return t.DoubleType()
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return t.StringType()
    if pa.types.is_date(arrow):
        return t.DateType()
    if pa.types.is_timestamp(arrow):
        return t.TimestampType()
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return t.ArrayType(spark_type(arrow.value_type))
    raise TypeError(f"no Spark type for the Arrow type {arrow}")


def spark_schema(schema: pa.Schema) -> StructType:
    from pyspark.sql import types as t

    return t.StructType([t.StructField(f.name, spark_type(f.type), nullable=True) for f in schema])
