"""One ingest, one transaction: pre-check every file, then per contract table stage, validate, insert and count.

Order of work in ``ingest_folder``:

1. discover the folder's files per contract table;
2. pre-check all of them before loading anything: zero-byte files and headers missing required contract columns
   are collected and raised as one ``IngestError``; a file whose sha256 is already in ``raw.ingested_files`` (or
   that repeats another file of this ingest) is skipped whole;
3. per table in contract order (referenced tables first): read each file into a temp table (VARCHAR values,
   typed values, first failing row reason), run the cross-row checks (references, duplicates, key conflicts) into
   a small bad-rows table, insert the accepted rows into ``raw.<table>`` and every other row into
   ``raw.rejects``;
4. record the batch and its files, assert rows read = accepted + rejected, commit. Any error rolls back.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from vitrine.config import warehouse_path
from vitrine.contract import TABLES_BY_NAME, Table

from . import validate
from .check import FileCheck, check_file, digest_file
from .discover import SourceFile, discover
from .errors import IngestError
from .read import StagedFile, stage_file
from .report import FileReport, IngestReport, TableReport
from .schema import ensure_raw_schema
from .sqltext import ident, lit
from .validate import (
    Staging,
    batch_duplicate_sql,
    batch_key_conflict_sql,
    has_key_conflicts,
    payload_expr,
    raw_duplicate_sql,
    raw_key_conflict_sql,
    reference_check_sql,
)

# A reject reason without its particulars ("malformed opens_on: '2026-13-01'" -> "malformed opens_on").
REASON_KIND_SQL = r"regexp_replace(reason, '(:| [0-9(]| of (line|\S+ line)).*$', '')"
_TEMP_PREFIX = "_vitrine_ingest"


@dataclass
class _TablePlan:
    """A table's files to load (in order) and its part of the report."""

    table: Table
    report: TableReport
    checks: list[FileCheck] = field(default_factory=list)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    row = con.execute(sql, params or []).fetchone()
    return row[0] if row else None


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """Run an INSERT and return the number of rows it inserted."""
    return int(_one(con, sql) or 0)


def ingest_folder(
    folder: Path,
    *,
    warehouse: Path | None = None,
    images_root: Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> IngestReport:
    """Load one folder of contract files into the warehouse's raw schema, in one transaction.

    ``warehouse`` defaults to ``vitrine.config.warehouse_path()`` (parent folders are created); with ``con`` the
    ingest runs on that connection instead (it must not be inside a transaction; its TimeZone and
    preserve_insertion_order settings are restored afterwards). ``images_root`` defaults to ``folder/images``
    when that exists. Raises ``IngestError`` when the folder cannot be loaded; nothing is committed then.
    """
    started = time.perf_counter()
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise IngestError(f"{folder}: not a folder")
    if images_root is None and (folder / "images").is_dir():
        images_root = folder / "images"
    images = Path(images_root).expanduser().resolve() if images_root is not None else None

    own = con is None
    if con is None:
        db_path = warehouse_path(warehouse)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(db_path))
        wh = str(db_path)
    else:
        wh = (
            str(warehouse)
            if warehouse is not None
            else str(
                _one(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()") or ":memory:"
            )
        )
    wanted = {"TimeZone": "UTC", "preserve_insertion_order": "true", "enable_progress_bar": "false"}
    saved = {name: _one(con, f"SELECT current_setting({lit(name)})") for name in wanted}
    try:
        for name, value in wanted.items():
            con.execute(f"SET {name} = {lit(value)}")
        report = _ingest(con, folder, images, wh)
    finally:
        for name, value in saved.items():
            if value is not None:
                con.execute(f"SET {name} = {lit(str(value))}")
        if own:
            con.close()
    report.seconds = time.perf_counter() - started
    return report


def _ingest(con: duckdb.DuckDBPyConnection, folder: Path, images: Path | None, wh: str) -> IngestReport:
    discovery = discover(folder, images)
    report = IngestReport(
        batch_id=None,
        source_dir=str(folder),
        images_root=str(images) if images else None,
        warehouse=wh,
        ignored=discovery.ignored,
    )
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_raw_schema(con)
        plans = _precheck(con, discovery.files, report)
        if any(p.checks for p in plans):
            batch_id = int(_one(con, "SELECT coalesce(max(batch_id), 0) + 1 FROM raw.ingest_batches") or 1)
            report.batch_id = batch_id
            ingested_at = datetime.now(UTC).replace(tzinfo=None)
            for plan in plans:
                if plan.checks:
                    _load_table(con, plan, batch_id, ingested_at)
            con.execute(
                "INSERT INTO raw.ingest_batches VALUES (?, ?, ?, ?)",
                [batch_id, ingested_at, str(folder), str(images) if images else None],
            )
            for t in report.tables.values():
                for f in t.loaded_files:
                    con.execute(
                        "INSERT INTO raw.ingested_files VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [batch_id, f.table, f.path, f.sha256, f.rows_read, f.rows_accepted, f.rows_rejected],
                    )
        report.check()
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # keep the original error if the connection is gone
            con.execute("ROLLBACK")
        raise
    return report


def _precheck(
    con: duckdb.DuckDBPyConnection, files: dict[str, list[SourceFile]], report: IngestReport
) -> list[_TablePlan]:
    """Checksums, skips and header checks of every file; one IngestError listing all problems."""
    known = dict(con.execute("SELECT sha256, min(batch_id) FROM raw.ingested_files GROUP BY sha256").fetchall())
    seen: dict[str, str] = {}
    problems: list[str] = []
    plans: list[_TablePlan] = []
    for name, sources in files.items():
        table = TABLES_BY_NAME[name]
        plan = _TablePlan(table, TableReport(name))
        report.tables[name] = plan.report
        plans.append(plan)
        for source in sources:
            if source.path.stat().st_size == 0:
                problems.append(f"{source.rel}: empty file (zero bytes; a valid file has at least a header line)")
                continue
            digest = digest_file(source)
            skip = None
            if digest.sha256 in known:
                skip = f"already ingested (batch {known[digest.sha256]})"
            elif digest.sha256 in seen:
                skip = f"same content as {seen[digest.sha256]}"
            if skip:
                plan.report.files.append(FileReport(name, source.rel, digest.sha256, "skipped", skip_reason=skip))
                continue
            seen[digest.sha256] = source.rel
            check, found = check_file(source, table, digest, con)
            problems.extend(found)
            if check is not None:
                plan.checks.append(check)
                plan.report.files.append(
                    FileReport(
                        name,
                        source.rel,
                        digest.sha256,
                        "loaded",
                        extra_columns=check.extra_columns,
                        missing_optional_columns=check.missing_optional,
                    )
                )
    if problems:
        raise IngestError(problems)
    return plans


def _load_table(con: duckdb.DuckDBPyConnection, plan: _TablePlan, batch_id: int, ingested_at: datetime) -> None:
    """Stage the table's files, run the cross-row checks, insert accepted rows and rejects, fill the counts."""
    table, name = plan.table, plan.table.name
    prefix = f"{_TEMP_PREFIX}_{name}"
    ts = f"TIMESTAMP {lit(ingested_at.isoformat(sep=' '))}"
    temps: list[str] = []
    staged: list[StagedFile] = []
    try:
        for i, check in enumerate(plan.checks):
            try:
                s = stage_file(con, check, table, i, f"{prefix}_{i}")
            except duckdb.Error as exc:
                raise IngestError(f"{check.source.rel}: cannot be read ({exc})") from exc
            staged.append(s)
            temps += [t for t in (s.src, s.rejects) if t]
        bad = f"{prefix}_bad"
        temps.append(bad)
        con.execute(f"CREATE TEMP TABLE {bad} (_file INTEGER, _k BIGINT, reason VARCHAR)")
        st = Staging(
            table=table,
            view=" UNION ALL ".join(s.select_sql(table) for s in staged),
            bad=bad,
            files=tuple(c.source.rel for c in plan.checks),
        )
        gap_parts = [g for g in (s.gaps_sql() for s in staged) if g]
        if gap_parts:
            gaps_sql = f"SELECT _file, g, max(c) AS c FROM ({' UNION ALL '.join(gap_parts)}) GROUP BY _file, g"
            if sum(s.reject_lines for s in staged) <= validate.LINE_CASE_LIMIT:
                gaps: dict[int, list[tuple[int, int]]] = {}
                for f, g, c in con.execute(f"{gaps_sql} ORDER BY _file, g").fetchall():
                    gaps.setdefault(int(f), []).append((int(g), int(c)))
                st = replace(st, gaps=gaps)
            else:
                temps.append(f"{prefix}_gaps")
                con.execute(f"CREATE TEMP TABLE {prefix}_gaps AS {gaps_sql}")
                st = replace(st, gaps_table=f"{prefix}_gaps")

        n_bad = 0
        refs = reference_check_sql(st, n_bad > 0)
        if refs:
            n_bad += _count(con, refs)
        if _one(con, f"SELECT EXISTS (SELECT 1 FROM raw.{ident(name)})"):
            n_bad += _count(con, raw_duplicate_sql(st, n_bad > 0))
            if has_key_conflicts(table):
                n_bad += _count(con, raw_key_conflict_sql(st, n_bad > 0))
        n_bad += _count(con, batch_duplicate_sql(st, n_bad > 0))
        if has_key_conflicts(table):
            n_bad += _count(con, batch_key_conflict_sql(st, n_bad > 0))

        cols = ", ".join(ident(c) for c in table.column_names)
        # Rows carry their _line, so the raw table need not keep file order: an unordered parallel insert
        # writes full row groups (no re-merge at checkpoint), which is markedly faster and smaller.
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            f"INSERT INTO raw.{ident(name)} ({cols}, _batch_id, _source_file, _line, _ingested_at) "
            f"SELECT {cols}, {batch_id}, {st.file_name('t._file')}, t._line, {ts} "
            f"FROM ({st.lined(st.live(n_bad > 0))}) t"
        )
        con.execute("SET preserve_insertion_order = true")
        rejected = f"SELECT t.*, t._reason AS reason FROM ({st.view}) t WHERE t._reason IS NOT NULL"
        if n_bad:
            rejected += (
                f" UNION ALL SELECT t.*, b.reason FROM ({st.view}) t JOIN {bad} b ON b._file = t._file AND b._k = t._k"
            )
        con.execute(
            f"INSERT INTO raw.rejects SELECT {batch_id}, {lit(name)}, {st.file_name('r._file')}, r._line, "
            f"{payload_expr(table, 'r')}, r.reason, {ts} FROM ({st.lined(rejected)}) r ORDER BY r._file, r._line"
        )
        for s in staged:
            if s.rejects:
                con.execute(
                    f"INSERT INTO raw.rejects SELECT {batch_id}, {lit(name)}, {lit(s.check.source.rel)}, "
                    f"line, csv_line, reason, {ts} FROM {s.rejects} ORDER BY line"
                )
        _fill_counts(con, plan, staged, batch_id)
    finally:
        for t in reversed(temps):
            con.execute(f"DROP TABLE IF EXISTS {t}")


def _fill_counts(con: duckdb.DuckDBPyConnection, plan: _TablePlan, staged: list[StagedFile], batch_id: int) -> None:
    """Per-file rows read (staged + structural rejects), accepted (in raw) and rejected (in raw.rejects)."""
    name = plan.table.name
    accepted = dict(
        con.execute(
            f"SELECT _source_file, count(*) FROM raw.{ident(name)} WHERE _batch_id = ? GROUP BY ALL", [batch_id]
        ).fetchall()
    )
    rejected = dict(
        con.execute(
            "SELECT source_file, count(*) FROM raw.rejects WHERE batch_id = ? AND table_name = ? GROUP BY ALL",
            [batch_id, name],
        ).fetchall()
    )
    by_path = {f.path: f for f in plan.report.files if f.status == "loaded"}
    for s in staged:
        f = by_path[s.check.source.rel]
        f.rows_read = s.rows_read
        f.rows_accepted = int(accepted.get(f.path, 0))
        f.rows_rejected = int(rejected.get(f.path, 0))
        f.notes.extend(s.notes)
        f.check()
    plan.report.top_reasons = [
        (str(kind), int(n))
        for kind, n in con.execute(
            f"SELECT {REASON_KIND_SQL} AS kind, count(*) AS n FROM raw.rejects WHERE batch_id = ? AND table_name = ? "
            "GROUP BY kind ORDER BY n DESC, kind LIMIT 5",
            [batch_id, name],
        ).fetchall()
    ]
