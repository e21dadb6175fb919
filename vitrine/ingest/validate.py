"""The validation SQL: the row checks while reading, then the cross-row checks on the staged rows.

``row_select_sql`` wraps the reader's VARCHAR columns (``_v_<col>``) in one pass: every contract column parsed to
its contract type (NULL when missing or malformed) and ``_reason``, the first failure in column order (missing,
malformed, out of range), then the row rules (closes_on before opens_on). It is pure projection, so the staged
table keeps file order.

The cross-row checks then run on the rows still valid (``_reason`` NULL, not yet rejected) and add
(_file, _k, reason) to a small "bad rows" table, in this order: unknown reference (against the raw table of the
referenced table, which already holds this ingest's accepted rows: tables load in contract order); identical to a
row already loaded (the latest version for entity tables); event key already loaded with other values; exact
duplicate within this ingest (first occurrence wins); event key repeated within this ingest with other values.
Duplicates are found with a hash aggregate (groups of more than one row) and only those candidate rows are compared
exactly: no window function over the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass

from vitrine.contract import Column, Table

from .sqltext import ident, lit


@dataclass(frozen=True)
class Check:
    """A rule on the typed columns: ``condition`` is true when the row fails; ``message`` is SQL for the reason."""

    condition: str
    message: str


# Range rules per (table, column), checked right after the column is parsed.
COLUMN_CHECKS: dict[tuple[str, str], tuple[Check, ...]] = {
    ("sales", "latitude"): (Check("latitude NOT BETWEEN -90 AND 90", "'latitude out of range: ' || \"_v_latitude\""),),
    ("sales", "longitude"): (
        Check("longitude NOT BETWEEN -180 AND 180", "'longitude out of range: ' || \"_v_longitude\""),
    ),
    ("sales", "price_eur"): (Check("price_eur <= 0", "'price_eur must be positive'"),),
    ("sale_images", "position"): (Check('"position" < 1', "'position must be >= 1'"),),
    ("purchases", "amount_eur"): (Check("amount_eur < 0", "'amount_eur must not be negative'"),),
}

# Rules across the columns of one row, checked after all columns.
ROW_CHECKS: dict[str, tuple[Check, ...]] = {
    "sales": (Check("closes_on < opens_on", "'closes_on before opens_on'"),),
}

_MAX_SHOWN = 80  # characters of a bad value quoted in a reason
# Timestamps in UTC without fractions (what the simulator and most exports write), parsed fast; anything else
# that starts like an ISO date goes through TIMESTAMPTZ, which applies an offset (the session time zone is UTC).
_PLAIN_TIMESTAMP_FORMATS = "['%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S']"


def v_col(col: str) -> str:
    """The staged VARCHAR column of a contract column."""
    return ident(f"_v_{col}")


def _x(col: str) -> str:
    return ident(f"_x_{col}")


def _cast_expr(col: Column) -> str | None:
    """First layer: the plain TRY_CAST that the typed layer refines (None: nothing to pre-compute)."""
    if col.sql_type in ("BIGINT", "INTEGER", "DOUBLE"):
        return f"TRY_CAST({v_col(col.name)} AS {col.sql_type}) AS {_x(col.name)}"
    return None


def typed_expr(col: Column) -> str:
    """Second layer: the typed value, NULL when the text is missing or malformed."""
    v, x = v_col(col.name), _x(col.name)
    match col.sql_type:
        case "BIGINT":  # identifiers: positive integers written with digits only
            return (
                f"CASE WHEN {x} > 0 AND (CAST({x} AS VARCHAR) = {v} OR regexp_full_match({v}, '[0-9]+')) THEN {x} END"
            )
        case "INTEGER":
            return f"CASE WHEN CAST({x} AS VARCHAR) = {v} OR regexp_full_match({v}, '-?[0-9]+') THEN {x} END"
        case "DOUBLE":
            return f"CASE WHEN isfinite({x}) THEN {x} END"
        case "DATE":
            return (
                f"CASE WHEN regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') THEN TRY_CAST({v} AS DATE) END"
            )
        case "TIMESTAMP":
            # The first-character test keeps out the special values both parsers know ('epoch', 'infinity').
            return (
                f"CASE WHEN {v} >= '0' AND {v} < ':' THEN coalesce(try_strptime({v}, {_PLAIN_TIMESTAMP_FORMATS}), "
                f"CASE WHEN regexp_matches({v}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                f"THEN CAST(TRY_CAST({v} AS TIMESTAMPTZ) AS TIMESTAMP) END) END"
            )
        case "VARCHAR":
            return f"nullif({v}, '')"
        case other:
            return f"TRY_CAST({v} AS {other})"


def _shown(v: str) -> str:
    """SQL quoting a bad value for a reason, cut at _MAX_SHOWN characters."""
    cut = f"CASE WHEN length({v}) > {_MAX_SHOWN} THEN '...' ELSE '' END"
    return f"'''' || left({v}, {_MAX_SHOWN}) || {cut} || ''''"


def row_reason_whens(table: Table) -> list[str]:
    """WHEN branches of the row reason, in order: per column (missing, malformed, range), then row rules."""
    whens: list[str] = []
    for col in table.columns:
        v, c = v_col(col.name), ident(col.name)
        if col.required:
            empty = f"trim({v}) = ''" if col.sql_type == "VARCHAR" else f"{v} = ''"
            whens.append(f"WHEN {v} IS NULL OR {empty} THEN {lit('missing ' + col.name)}")
        if col.sql_type != "VARCHAR":
            malformed = lit(f"malformed {col.name}: ")
            whens.append(f"WHEN {c} IS NULL AND {v} <> '' THEN {malformed} || {_shown(v)}")
        for check in COLUMN_CHECKS.get((table.name, col.name), ()):
            whens.append(f"WHEN {check.condition} THEN {check.message}")
    for check in ROW_CHECKS.get(table.name, ()):
        whens.append(f"WHEN {check.condition} THEN {check.message}")
    return whens


def row_select_sql(table: Table, reader_sql: str, carry: tuple[str, ...] = ()) -> str:
    """SELECT the VARCHAR columns, the typed columns and ``_reason`` over a reader yielding ``_v_<col>``
    (and the ``carry`` columns, passed through first)."""
    v_cols = ", ".join([ident(c) for c in carry] + [v_col(c) for c in table.column_names])
    casts = "".join(", " + e for e in (_cast_expr(c) for c in table.columns) if e is not None)
    typed = ", ".join(f"{typed_expr(c)} AS {ident(c.name)}" for c in table.columns)
    cols = ", ".join(ident(c) for c in table.column_names)
    case = "CASE " + " ".join(row_reason_whens(table)) + " END"
    layer1 = f"SELECT *{casts} FROM ({reader_sql}) r"
    layer2 = f"SELECT {v_cols}, {typed} FROM ({layer1}) r"
    return f"SELECT {v_cols}, {cols}, {case} AS _reason FROM ({layer2}) r"


# Up to this many structural rejects in a table, line offsets are a CASE tree (log2 comparisons per row);
# beyond, an ASOF join against a gaps table.
LINE_CASE_LIMIT = 1024


def offset_case(k: str, gaps: list[tuple[int, int]]) -> str:
    """SQL of c_i for the largest g_i < k (0 when none), as a balanced CASE tree over ``gaps`` sorted by g."""

    def node(lo: int, hi: int, default: int) -> str:
        if lo >= hi:
            return str(default)
        mid = (lo + hi) // 2
        g, c = gaps[mid]
        return f"CASE WHEN {k} > {g} THEN {node(mid + 1, hi, c)} ELSE {node(lo, mid, default)} END"

    return node(0, len(gaps), 0)


@dataclass(frozen=True)
class Staging:
    """What the cross-row checks work on: the union of a table's staged files and its helper tables."""

    table: Table
    view: str  # SQL of (_file, _k, _line0, _v_<col>..., <col>..., _reason) over all the table's staged files
    bad: str  # temp table (_file, _k, reason) of rows rejected by the cross-row checks
    files: tuple[str, ...]  # relative paths, indexed by _file
    # Line offsets after structural rejects: per file its (g, c) pairs sorted by g (few rejects), or the name of
    # a temp table (_file, g, c) for an ASOF join (many); neither when no line was structurally rejected.
    gaps: dict[int, list[tuple[int, int]]] | None = None
    gaps_table: str | None = None

    def lined(self, rows_sql: str) -> str:
        """Rows of the view (or a subset with the same columns) with their file line number ``_line``."""
        if self.gaps:
            whens = " ".join(f"WHEN {f} THEN {offset_case('(t._k + 1)', g)}" for f, g in sorted(self.gaps.items()))
            return f"SELECT t.*, t._line0 + CASE t._file {whens} ELSE 0 END AS _line FROM ({rows_sql}) t"
        if self.gaps_table:
            return (
                f"SELECT t.*, t._line0 + coalesce(g.c, 0) AS _line FROM ({rows_sql}) t "
                f"ASOF LEFT JOIN {self.gaps_table} g ON t._file = g._file AND t._k + 1 > g.g"
            )
        return f"SELECT t.*, t._line0 AS _line FROM ({rows_sql}) t"

    def live(self, bad_nonempty: bool) -> str:
        """Rows still valid: no row reason, not in the bad-rows table (skipped while that is empty)."""
        rows = f"SELECT * FROM ({self.view}) t WHERE t._reason IS NULL"
        if not bad_nonempty:
            return rows
        # An explicit ANTI JOIN: a NOT EXISTS here gets decorrelated through an aggregate over every row.
        return f"SELECT t.* FROM ({rows}) t ANTI JOIN {self.bad} b ON b._file = t._file AND b._k = t._k"

    def file_name(self, file_expr: str) -> str:
        """SQL of the relative path of file number ``file_expr``."""
        if len(self.files) == 1:
            return lit(self.files[0])
        return "[" + ", ".join(lit(f) for f in self.files) + f"][{file_expr} + 1]"


def _eq(table: Table, a: str, b: str, columns: tuple[str, ...] | None = None) -> str:
    """Equality of two rows on the given columns: '=' for required ones (never NULL here), else null-safe."""
    parts = []
    for name in columns or table.column_names:
        op = "=" if table.column(name).required else "IS NOT DISTINCT FROM"
        parts.append(f"{a}.{ident(name)} {op} {b}.{ident(name)}")
    return " AND ".join(parts)


def reference_check_sql(s: Staging, bad_nonempty: bool) -> str | None:
    """Rows referencing an unknown sale or user: 'unknown sale_id 123' (first failing reference)."""
    refs = s.table.references
    if not refs:
        return None
    whens = " ".join(
        f"WHEN {ident(col)} NOT IN (SELECT r.{ident(ref_col)} FROM raw.{ident(ref_table)} r) "
        f"THEN {lit('unknown ' + col + ' ')} || {ident(col)}"
        for col, ref_table, ref_col in refs
    )
    return (
        f"INSERT INTO {s.bad} SELECT _file, _k, reason FROM (SELECT _file, _k, CASE {whens} END AS reason "
        f"FROM ({s.live(bad_nonempty)}) t) WHERE reason IS NOT NULL"
    )


def raw_duplicate_sql(s: Staging, bad_nonempty: bool) -> str:
    """Rows identical to one already loaded (entity tables: to the latest version of their key)."""
    table = s.table
    rel = f"raw.{ident(table.name)}"
    if table.is_event:
        loaded = rel
    else:
        key = ", ".join(ident(k) for k in table.key)
        loaded = (
            f"(SELECT * FROM {rel} QUALIFY row_number() OVER "
            f"(PARTITION BY {key} ORDER BY _batch_id DESC, _source_file DESC, _line DESC) = 1)"
        )
    return (
        f"INSERT INTO {s.bad} SELECT t._file, t._k, 'duplicate of a row already loaded' "
        f"FROM ({s.live(bad_nonempty)}) t WHERE EXISTS (SELECT 1 FROM {loaded} r WHERE {_eq(table, 't', 'r')})"
    )


def has_key_conflicts(table: Table) -> bool:
    """Event tables whose key is not the whole row (purchases): another row with that key is a conflict."""
    return table.is_event and set(table.key) != set(table.column_names)


def raw_key_conflict_sql(s: Staging, bad_nonempty: bool) -> str:
    """Event rows whose key is already loaded with other values (exact copies were caught before)."""
    table = s.table
    message = lit(", ".join(table.key) + " already loaded with different values")
    return (
        f"INSERT INTO {s.bad} SELECT t._file, t._k, {message} FROM ({s.live(bad_nonempty)}) t "
        f"WHERE EXISTS (SELECT 1 FROM raw.{ident(table.name)} r WHERE {_eq(table, 't', 'r', table.key)})"
    )


def _later_occurrences(s: Staging, candidates: str, partition: str, message: str) -> str:
    """Rows of ``candidates`` after the first of their partition (file order, line), with the message SQL."""
    first = f"CASE WHEN f_file = _file THEN '' ELSE {s.file_name('f_file')} || ' ' END || 'line ' || f_line"
    return (
        f"SELECT _file, _k, {message.format(first=first)} FROM ("
        "SELECT _file, _k, first_value(_file) OVER w AS f_file, first_value(_line) OVER w AS f_line, "
        f"row_number() OVER w AS rn FROM ({s.lined(candidates)}) c "
        f"WINDOW w AS (PARTITION BY {partition} ORDER BY _file, _line)) WHERE rn > 1"
    )


def batch_duplicate_sql(s: Staging, bad_nonempty: bool) -> str:
    """Exact duplicates within this ingest: the first occurrence stays, the others go."""
    cols = ", ".join(ident(c) for c in s.table.column_names)
    live = s.live(bad_nonempty)
    hashes = f"SELECT h FROM (SELECT hash({cols}) AS h FROM ({live}) t) GROUP BY h HAVING count(*) > 1"
    candidates = f"SELECT * FROM ({live}) t WHERE hash({cols}) IN ({hashes})"
    message = "'exact duplicate of ' || {first}"
    return f"INSERT INTO {s.bad} {_later_occurrences(s, candidates, cols, message)}"


def batch_key_conflict_sql(s: Staging, bad_nonempty: bool) -> str:
    """Event key repeated within this ingest with other values: the first occurrence stays."""
    table = s.table
    key = ", ".join(ident(k) for k in table.key)
    live = s.live(bad_nonempty)
    keys = f"SELECT {key} FROM ({live}) t GROUP BY {key} HAVING count(*) > 1"
    candidates = (
        f"SELECT * FROM ({live}) t WHERE EXISTS (SELECT 1 FROM ({keys}) r WHERE {_eq(table, 't', 'r', table.key)})"
    )
    message = lit(f"repeated {', '.join(table.key)} with different values (first at ") + " || {first} || ')'"
    return f"INSERT INTO {s.bad} {_later_occurrences(s, candidates, key, message)}"


def payload_expr(table: Table, alias: str) -> str:
    """The rejected row as JSON text of its VARCHAR values, contract columns in contract order."""
    pairs = ", ".join(f"{lit(c)}, {alias}.{v_col(c)}" for c in table.column_names)
    return f"CAST(json_object({pairs}) AS VARCHAR)"
