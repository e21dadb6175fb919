"""Image labelling on Spark's executors: the files table split by content hash, each partition labelled by
vitrine.vision.warehouse.label_new_content (the same function the DuckDB build calls) with its network loaded once
per partition. The executors need the driver's Python environment (PYSPARK_PYTHON, docs/spark.md) and read the
photos by their paths: on a cluster, a storage that every worker mounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from pyspark.sql.pandas.types import from_arrow_schema

from vitrine.vision.warehouse import INFERENCE_SCHEMA, LabellingConfig, StoredEmbeddings, label_new_content


def label_on_executors(
    files: Any, done: pd.DataFrame | None, config: LabellingConfig, *, stored: StoredEmbeddings | None = None,
) -> Any:
    """The int_image_inference rows for the Spark DataFrame `files` (int_image_files): one task per partition of
    readable files, all the files of a content in one partition (a content is labelled once)."""
    readable = files.where("content_hash is not null")
    known: pd.DataFrame | None = None
    if stored is not None and config.head_version() is not None:
        # the head labels from the embeddings the warehouse holds: read them here, on the driver, for the executors
        hashes = [r[0] for r in readable.select("content_hash").distinct().collect()]
        known = stored(hashes, config.backbone_version())
    partitions = max(1, files.sparkSession.sparkContext.defaultParallelism)

    def stored_on_executor(hashes: Any, _backbone_version: str) -> pd.DataFrame:
        assert known is not None
        return known[known["content_hash"].isin(list(hashes))]

    def label_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        part = pd.concat(list(batches), ignore_index=True)
        if part.empty:
            return
        table = label_new_content(part, done, config, stored=stored_on_executor if known is not None else None)
        if table.num_rows:
            yield table.to_pandas()

    return readable.repartition(partitions, "content_hash").mapInPandas(
        label_partition, from_arrow_schema(INFERENCE_SCHEMA)
    )
