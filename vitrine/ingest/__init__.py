"""Ingest: load one folder of contract files (CSV, CSV.gz, Parquet) into the warehouse's ``raw`` schema.

``ingest_folder(folder)`` checks every file first (IngestError on empty files or missing required columns), then
loads table by table in one transaction: the accepted rows into ``raw.<table>`` with lineage columns, every other
row into ``raw.rejects`` with its file, line, payload and reason (rows read = accepted + rejected). Files already
ingested (same sha256) are skipped, so ingesting a folder twice adds nothing.

Modules: ``discover`` (files per table), ``check`` (pre-check: checksums, headers), ``read`` (CSV/Parquet into
VARCHAR temp tables, structural rejects, line numbers), ``validate`` (the validation SQL), ``schema`` (raw DDL),
``load`` (the transaction), ``report`` (IngestReport), ``errors`` (IngestError).
"""

from __future__ import annotations

from .errors import IngestError
from .load import ingest_folder
from .report import FileReport, IngestReport, TableReport

__all__ = ["FileReport", "IngestError", "IngestReport", "TableReport", "ingest_folder"]
