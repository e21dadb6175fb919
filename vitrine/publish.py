"""Publishing the night's public marts for BI tools: Parquet files plus a small read-only DuckDB of views.

DuckDB allows one writer and the warehouse is locked while dbt writes, so BI tools never read the warehouse. After
the quality gate passed, each public mart is copied to Parquet in a new night folder, a `serving.duckdb` with one
view per table is written beside them, then `manifest.json` (written last: its presence marks a complete night).
Only then is the `current` symlink switched to the new folder, atomically (a new link renamed over the old one with
os.replace). A reader that resolves `current` sees either the previous night or the new one, always complete.

    SERVING_ROOT/
      current -> nights/2026-02-15_20260216T020304Z_1a2b3c4d
      nights/<run_date>_<published at>_<run id>/
        manifest.json     run_date, run_id, published_at, tables: rows, columns, content hashes, files
        serving.duckdb    read-only views over tables/*.parquet, and vitrine_night (run_date, run_id, folder),
                          in a storage version DuckDB 1.x clients read (SERVING_STORAGE_VERSION)
        tables/<mart>.parquet
        report/index.html (written after the switch by vitrine.report)
      last_run.json       the last run's outcome: published, or failed and why

serving.duckdb is written in an older storage version than the writing DuckDB's own (by default v1.0.0, which DuckDB
1.0 and later read: BI drivers often bundle a DuckDB 1.x, and a file in a newer format fails there with "Trying to
read a database file with version number ..."). Its views only read Parquet files by absolute path
(`select * from read_parquet('<night>/tables/<mart>.parquet')`), which every DuckDB 1.x understands.

A folder under nights/ without manifest.json is a publication that was interrupted (a killed process): it was never
served, and the next publication deletes it. The last `keep` complete nights are kept (at least 2: a reader may
still be reading the previous night when the switch happens).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from vitrine.config import DBT_PROJECT_DIR

MANIFEST = "manifest.json"
SERVING_DB = "serving.duckdb"
CURRENT = "current"
NIGHTS = "nights"
TABLES = "tables"
LAST_RUN = "last_run.json"
NIGHT_TABLE = "vitrine_night"
RUN_ID_KEY = "vitrine_run_id"
# A row's hash is DuckDB's 64-bit hash() of the row, with two seeds; verify_night compares it only under the same
# method and DuckDB version (hash() may change between versions). It was the md5 of each row's text: formatting
# every double of recommender_scores as text made it most of the publish.
HASH_METHOD = "sha256(columns, rows, sums of DuckDB hash() of each row, seeds 0 and 1)"
# zstd at its fastest level in row groups of a million rows: faster than zstd's default level and row groups, and
# lighter in memory than snappy (docs/benchmarks.md, "Publishing").
PARQUET_OPTIONS = "format parquet, compression zstd, compression_level 1, row_group_size 1000000"
# The DuckDB storage version serving.duckdb is written in: v1.0.0 is read by DuckDB 1.0 and every later version
# (what BI drivers bundle). $VITRINE_SERVING_STORAGE_VERSION, or publish_night(storage_version=...), chooses another
# (e.g. `latest`, the writing DuckDB's own format, which DuckDB 1.x clients cannot open).
SERVING_STORAGE_VERSION_ENV = "VITRINE_SERVING_STORAGE_VERSION"
DEFAULT_SERVING_STORAGE_VERSION = "v1.0.0"


class PublishError(RuntimeError):
    """The night could not be published (the previous night stays served)."""


@dataclass(frozen=True)
class PublicTable:
    """A public mart: its name (what BI tools see) and where dbt built it."""

    name: str
    schema: str
    identifier: str

    @property
    def relation(self) -> str:
        return f'"{self.schema}"."{self.identifier}"'


@dataclass(frozen=True)
class Night:
    """One complete published night."""

    path: Path
    manifest: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.manifest["run_id"])

    @property
    def run_date(self) -> date:
        return date.fromisoformat(self.manifest["run_date"])

    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest["tables"])

    @property
    def serving_db(self) -> Path:
        return self.path / SERVING_DB

    def content_hash(self, table: str) -> str | None:
        entry = self.manifest["tables"].get(table)
        return entry["content_hash"] if entry else None


def public_tables(manifest_path: Path | None = None) -> list[PublicTable]:
    """The models tagged `public` in dbt's manifest (target/manifest.json of the last dbt command), by name."""
    path = manifest_path or DBT_PROJECT_DIR / "target" / "manifest.json"
    if not path.exists():
        raise PublishError(f"no dbt manifest at {path}: run the dbt build first")
    nodes = json.loads(path.read_text())["nodes"]
    tables = [
        PublicTable(name=node["name"], schema=node["schema"], identifier=node.get("alias") or node["name"])
        for node in nodes.values()
        if node["resource_type"] == "model" and "public" in node.get("tags", [])
        and node.get("config", {}).get("enabled", True)
    ]
    return sorted(tables, key=lambda t: t.name)


def serving_storage_version(value: str | None = None) -> str:
    """The storage version to write serving.duckdb in: `value`, else $VITRINE_SERVING_STORAGE_VERSION, else v1.0.0.

    Raises PublishError when this DuckDB does not know it (a version is written `vX.Y.Z`, or `latest`).
    """
    chosen = (value if value is not None else os.environ.get(SERVING_STORAGE_VERSION_ENV, "")).strip()
    source = "storage_version" if value is not None else f"${SERVING_STORAGE_VERSION_ENV}"
    if not chosen:
        return DEFAULT_SERVING_STORAGE_VERSION
    problem = None
    if not re.fullmatch(r"v\d+\.\d+\.\d+|latest", chosen):
        problem = "it is written vX.Y.Z (e.g. v1.0.0) or latest"
    else:
        with duckdb.connect() as con:
            try:
                con.execute(f"attach ':memory:' as probe (storage_version {_quote(chosen)})")
            except duckdb.Error as exc:
                problem = f"DuckDB {duckdb.__version__} does not know it: {exc}"
    if problem:
        raise PublishError(
            f"serving storage version {chosen!r} (from {source}) is not a DuckDB storage version: {problem}. "
            f"The default, {DEFAULT_SERVING_STORAGE_VERSION}, is read by DuckDB 1.0 and later."
        )
    return chosen


def content_hash(con: duckdb.DuckDBPyConnection, source: str) -> tuple[int, str, list[list[str]]]:
    """(rows, hash, columns) of a table or parquet source: independent of row order and of the file encoding.

    The hash covers the column names and types, the row count, and the sums of two 64-bit hashes of each row
    (DuckDB's hash() of the row with seeds 0 and 1; see HASH_METHOD).
    """
    columns = [[name, str(kind)] for name, kind, *_ in con.execute(f"describe select * from {source}").fetchall()]
    rows, lower, upper = con.execute(
        f"select count(*), coalesce(sum(hash(t, 0)::hugeint), 0), coalesce(sum(hash(t, 1)::hugeint), 0) "
        f"from {source} as t"
    ).fetchone()
    digest = hashlib.sha256(json.dumps([columns, rows, str(lower), str(upper)]).encode()).hexdigest()
    return int(rows), digest, columns


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _parquet(path: Path) -> str:
    return f"read_parquet({_quote(path)})"


def _write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as handle:
        json.dump(payload, handle, indent=2, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def current_night(root: Path) -> Night | None:
    """The night being served (resolved once: every later read of it goes to the same folder), or None."""
    link = root / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    folder = link.resolve()
    manifest = _read_manifest(folder)
    return Night(folder, manifest) if manifest is not None else None


def list_nights(root: Path) -> list[Night]:
    """Complete published nights, newest publication first."""
    folder = root / NIGHTS
    if not folder.is_dir():
        return []
    nights = [Night(p, m) for p in folder.iterdir() if p.is_dir() and (m := _read_manifest(p)) is not None]
    return sorted(nights, key=lambda n: (n.manifest["published_at"], n.path.name), reverse=True)


def cleanup_incomplete(root: Path) -> list[Path]:
    """Delete night folders without a manifest (interrupted publications, never served); return them."""
    folder = root / NIGHTS
    if not folder.is_dir():
        return []
    served = (root / CURRENT).resolve() if (root / CURRENT).is_symlink() else None
    removed = []
    for path in sorted(folder.iterdir()):
        if path.is_dir() and not (path / MANIFEST).exists() and path.resolve() != served:
            _remove_tree(path)
            removed.append(path)
    for stale in root.glob(f".{CURRENT}.*.tmp"):
        stale.unlink(missing_ok=True)
    return removed


def prune(root: Path, keep: int) -> list[Path]:
    """Keep the `keep` newest complete nights (and always the current one); delete the others; return them."""
    served = (root / CURRENT).resolve() if (root / CURRENT).is_symlink() else None
    removed = []
    for night in list_nights(root)[keep:]:
        if night.path.resolve() != served:
            _remove_tree(night.path)
            removed.append(night.path)
    return removed


def _remove_tree(path: Path) -> None:
    for file in path.rglob("*"):  # the published files are read-only
        if file.is_file() and not file.is_symlink():
            file.chmod(stat.S_IWUSR | stat.S_IRUSR)
    shutil.rmtree(path)


def publish_night(
    warehouse: Path,
    root: Path,
    *,
    run_date: date,
    run_id: str,
    tables: list[PublicTable],
    keep: int = 7,
    extra: dict[str, Any] | None = None,
    on_table: Callable[[str], None] | None = None,
    storage_version: str | None = None,
) -> Night:
    """Copy `tables` from the warehouse into a new night folder under `root` and switch `current` to it.

    Raises PublishError (nothing switched, the previous night stays served) when a table is missing, a file cannot
    be written or the storage version is unknown. `extra` goes into the manifest (e.g. the flow run's metrics);
    `storage_version` is serving.duckdb's (default: serving_storage_version()).
    """
    if keep < 2:
        raise PublishError(f"keep must be at least 2 (the night served and the one before it), got {keep}")
    if not tables:
        raise PublishError("no public tables to publish (no model tagged `public` in the dbt manifest)")
    version = serving_storage_version(storage_version)
    root = root.resolve()
    (root / NIGHTS).mkdir(parents=True, exist_ok=True)
    cleanup_incomplete(root)
    published_at = datetime.now(UTC)
    night_dir = root / NIGHTS / f"{run_date.isoformat()}_{published_at:%Y%m%dT%H%M%S}Z_{run_id[:8]}"
    (night_dir / TABLES).mkdir(parents=True)

    try:
        manifest = _write_night(warehouse, night_dir, tables, run_date=run_date, run_id=run_id,
                                published_at=published_at, extra=extra, on_table=on_table,
                                storage_version=version)
    except BaseException as exc:  # nothing was switched: remove what was written, keep serving the previous night
        with contextlib.suppress(OSError):  # else left for the next publication's cleanup_incomplete
            _remove_tree(night_dir)
        if isinstance(exc, PublishError | duckdb.Error | OSError):
            raise PublishError(f"publishing {run_date} failed, the previous night stays served: {exc}") from exc
        raise
    switch_current(root, night_dir)
    prune(root, keep)
    return Night(night_dir, manifest)


def _write_night(
    warehouse: Path, night_dir: Path, tables: list[PublicTable], *, run_date: date, run_id: str,
    published_at: datetime, extra: dict[str, Any] | None, on_table: Callable[[str], None] | None,
    storage_version: str,
) -> dict[str, Any]:
    """Parquet files, serving.duckdb, then manifest.json (last) into night_dir; return the manifest."""
    entries: dict[str, dict[str, Any]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = {(s, n) for s, n in con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
        ).fetchall()}
        missing = [t.name for t in tables if (t.schema, t.identifier) not in built]
        if missing:
            raise PublishError(f"public models missing from the warehouse {warehouse}: {', '.join(missing)}")
        for table in tables:
            if on_table is not None:
                on_table(table.name)
            target = night_dir / TABLES / f"{table.name}.parquet"
            metadata = f"{{{RUN_ID_KEY}: '{run_id}', vitrine_run_date: '{run_date.isoformat()}'}}"
            con.execute(
                f"copy (select * from {table.relation}) to {_quote(target)} "
                f"({PARQUET_OPTIONS}, kv_metadata {metadata})"
            )
            rows, digest, columns = content_hash(con, _parquet(target))
            entries[table.name] = {
                "file": f"{TABLES}/{target.name}",
                "rows": rows,
                "content_hash": digest,
                "columns": columns,
                "bytes": target.stat().st_size,
            }

    serving = night_dir / SERVING_DB
    with duckdb.connect() as con:  # attached with its storage version: the file is written in that format
        con.execute(f"attach {_quote(serving)} as serving (storage_version {_quote(storage_version)})")
        con.execute("use serving")
        for name in entries:
            con.execute(f'create view "{name}" as select * from {_parquet(night_dir / TABLES / (name + ".parquet"))}')
        con.execute(
            f"create table {NIGHT_TABLE} as select ?::date as run_date, ? as run_id, ?::timestamptz as published_at, "
            "? as folder",
            [run_date, run_id, published_at, str(night_dir)],
        )
        con.execute("checkpoint serving")
        con.execute("use memory")
        con.execute("detach serving")
    for file in [serving, *(night_dir / TABLES).iterdir()]:
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())
        file.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

    manifest = {
        "run_date": run_date.isoformat(),
        "run_id": run_id,
        "published_at": published_at.isoformat(),
        "warehouse": str(warehouse),
        "duckdb_version": duckdb.__version__,
        "serving_storage_version": storage_version,
        "hash_method": HASH_METHOD,
        "tables": entries,
        **({"extra": extra} if extra else {}),
    }
    _write_json_atomic(night_dir / MANIFEST, manifest)
    return manifest


def switch_current(root: Path, night_dir: Path) -> None:
    """Point `current` at night_dir atomically: a new symlink renamed over the old one."""
    tmp = root / f".{CURRENT}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(night_dir.relative_to(root))
    os.replace(tmp, root / CURRENT)
    _fsync_dir(root)


def verify_night(night: Night) -> list[str]:
    """Problems of a published night: missing files, rows or content that differ from its manifest.

    The content is compared only where the manifest's hashes were made by this HASH_METHOD and DuckDB version
    (hash() may change between DuckDB versions); otherwise the rows are.
    """
    problems = []
    same_hash = (night.manifest.get("hash_method"), night.manifest.get("duckdb_version")) == (
        HASH_METHOD, duckdb.__version__)
    with duckdb.connect() as con:
        for name, entry in night.tables.items():
            path = night.path / entry["file"]
            if not path.exists():
                problems.append(f"{name}: {path} is missing")
                continue
            rows, digest, _ = content_hash(con, _parquet(path))
            if rows != entry["rows"] or (same_hash and digest != entry["content_hash"]):
                problems.append(f"{name}: {rows} rows, hash {digest[:12]} != manifest {entry['rows']}, "
                                f"{entry['content_hash'][:12]}")
    return problems


def record_run(root: Path, outcome: dict[str, Any]) -> None:
    """Write last_run.json (atomically): the last nightly run's outcome, published or failed and why."""
    root.mkdir(parents=True, exist_ok=True)
    _write_json_atomic(root / LAST_RUN, outcome)


def last_run(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / LAST_RUN).read_text())
    except FileNotFoundError:
        return None
