"""The serving copy (serving.duckdb) opens in a DuckDB 1.x client, what many BI drivers bundle.

The project writes with its own DuckDB; the client here is a real DuckDB 1.1.3 in its own environment,
.venv-duckdb1 (`make duckdb1-client`), run as a subprocess. The tests skip only when that environment is missing and
VITRINE_REQUIRE_DUCKDB1 is unset (`make test` creates it and sets the variable).
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest

from vitrine.config import PROJECT_ROOT
from vitrine.publish import (
    CURRENT,
    DEFAULT_SERVING_STORAGE_VERSION,
    NIGHTS,
    SERVING_DB,
    SERVING_STORAGE_VERSION_ENV,
    PublicTable,
    PublishError,
    current_night,
    public_tables,
    publish_night,
)

DUCKDB1_PYTHON = PROJECT_ROOT / ".venv-duckdb1" / "bin" / "python"

# Run by the DuckDB 1.x client: open the serving copy read-only as a BI tool would, read every value of every view
# (each row cast to text, so that every column is decoded) and print what it saw as JSON.
READER = """
import json, sys
import duckdb
out = {"version": duckdb.__version__, "views": {}}
with duckdb.connect(sys.argv[1], read_only=True) as con:
    for name, sql in con.execute(
        "select view_name, sql from duckdb_views() where not internal order by view_name"
    ).fetchall():
        columns = [[c, str(t)] for c, t, *_ in con.execute(f'describe "{name}"').fetchall()]
        rows, text = con.execute(f'select count(*), coalesce(sum(length(t::varchar)), 0) from "{name}" as t').fetchone()
        out["views"][name] = {"sql": sql, "columns": columns, "rows": rows, "decoded": text > 0 or rows == 0}
    out["night"] = con.execute("select run_date::varchar, run_id, published_at::varchar, folder from vitrine_night"
                               ).fetchone()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def duckdb1() -> Path:
    if not DUCKDB1_PYTHON.exists():
        message = (f"{DUCKDB1_PYTHON} is missing: `make duckdb1-client` creates it with duckdb==1.1.3 "
                   "(make test does it first)")
        if os.environ.get("VITRINE_REQUIRE_DUCKDB1"):
            pytest.fail(message + "; VITRINE_REQUIRE_DUCKDB1 is set, so this is an error")
        pytest.skip(message)
    return DUCKDB1_PYTHON


def _read_with(client: Path, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(client), "-c", READER, str(db)], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})


def _client_reads(client: Path, db: Path) -> dict:
    result = _read_with(client, db)
    assert result.returncode == 0, f"the DuckDB 1.x client failed on {db}:\n{result.stderr}"
    return json.loads(result.stdout)


def _as_the_project_reads(db: Path) -> dict[str, dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()]
        return {name: {"rows": con.execute(f'select count(*) from "{name}"').fetchone()[0],
                       "columns": [[c, str(t)] for c, t, *_ in con.execute(f'describe "{name}"').fetchall()]}
                for name in names}


def _check_night(client: Path, root: Path, run_id: str) -> dict:
    """The current night read by the 1.x client: every view, the same rows and columns as the project's DuckDB."""
    night = current_night(root)
    assert night is not None and night.run_id == run_id
    db = root / CURRENT / SERVING_DB
    seen = _client_reads(client, db)
    assert seen["version"].startswith("1."), seen["version"]
    expected = _as_the_project_reads(db)
    assert sorted(seen["views"]) == sorted(expected) == sorted(night.tables)
    for name, view in seen["views"].items():
        assert view["rows"] == expected[name]["rows"] == night.tables[name]["rows"], name
        assert view["columns"] == expected[name]["columns"], name
        assert view["decoded"], name
        # only what an old reader understands: a Parquet file read by its absolute path
        parquet = night.path / "tables" / f"{name}.parquet"
        assert view["sql"].rstrip(";").endswith(f"read_parquet('{parquet}')"), view["sql"]
        assert Path(parquet).is_absolute()
    run_date, seen_run_id, _published_at, folder = seen["night"]
    assert (run_date, seen_run_id, folder) == (night.run_date.isoformat(), run_id, str(night.path))
    return seen


def _warehouse(path: Path) -> tuple[Path, list[PublicTable]]:
    """A warehouse whose tables carry every column type the public marts have (and a few more)."""
    with duckdb.connect(str(path)) as con:
        con.execute("""
            create table recommender_scores as
            select date '2026-02-15' as scored_for, (range % 7)::bigint as user_id, range as sale_id,
                   range / 3.0 as cf_score, (range % 5)::integer as rank, range % 2 = 0 as is_open,
                   'sale ' || range as title, [range / 10.0, 1.5]::float[] as embedding,
                   (range / 4)::decimal(12, 2) as price, timestamp '2026-02-15 02:00:00' + to_minutes(range) as at,
                   {'list': 'cf', 'rank': range} as origin
            from range(500)
        """)
        con.execute("create table model_evaluation as select 'cf' as recommender, 0.25 as p_at_10, null::date as day")
        con.execute("create table image_label_errors as select 1::bigint as image_id, 'x' as error where false")
    tables = [PublicTable(name, "main", name) for name in ("image_label_errors", "model_evaluation",
                                                           "recommender_scores")]
    return path, tables


def test_a_duckdb1_client_reads_every_view_of_the_serving_copy(
    duckdb1: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SERVING_STORAGE_VERSION_ENV, raising=False)
    wh, tables = _warehouse(tmp_path / "wh.duckdb")
    root = tmp_path / "serving"
    night = publish_night(wh, root, run_date=date(2026, 2, 15), run_id="compat", tables=tables)
    assert night.manifest["serving_storage_version"] == DEFAULT_SERVING_STORAGE_VERSION == "v1.0.0"
    seen = _check_night(duckdb1, root, "compat")
    assert seen["views"]["recommender_scores"]["rows"] == 500
    assert seen["views"]["image_label_errors"]["rows"] == 0


def test_the_real_marts_open_in_a_duckdb1_client(
    duckdb1: Path, scored_world: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every public mart of a whole `dbt build`, published as the nightly flow does."""
    monkeypatch.delenv(SERVING_STORAGE_VERSION_ENV, raising=False)
    warehouse, _ = scored_world
    tables = public_tables()
    assert len(tables) > 5
    publish_night(warehouse, tmp_path / "serving", run_date=date(2026, 3, 1), run_id="marts", tables=tables)
    seen = _check_night(duckdb1, tmp_path / "serving", "marts")
    assert seen["views"]["recommender_scores"]["rows"] > 0


def test_the_writers_own_storage_format_does_not_open_in_duckdb1(
    duckdb1: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The failure the default avoids (and the check that the client above is really an old reader): the same night
    written in the project's DuckDB's own format, chosen through the environment."""
    monkeypatch.setenv(SERVING_STORAGE_VERSION_ENV, "latest")
    wh, tables = _warehouse(tmp_path / "wh.duckdb")
    night = publish_night(wh, tmp_path / "serving", run_date=date(2026, 2, 15), run_id="latest", tables=tables)
    assert night.manifest["serving_storage_version"] == "latest"
    result = _read_with(duckdb1, night.serving_db)
    assert result.returncode != 0 and "version number" in result.stderr, result.stderr
    # the keyword wins over the environment
    again = publish_night(wh, tmp_path / "serving", run_date=date(2026, 2, 16), run_id="v1", tables=tables,
                          storage_version="v1.0.0")
    assert again.manifest["serving_storage_version"] == "v1.0.0"
    _check_night(duckdb1, tmp_path / "serving", "v1")


@pytest.mark.parametrize(("setting", "message"), [
    ("v9", r"'v9' \(from \$VITRINE_SERVING_STORAGE_VERSION\) is not a DuckDB storage version: it is written vX.Y.Z"),
    ("1.0.0", r"'1.0.0' \(from \$VITRINE_SERVING_STORAGE_VERSION\) is not a DuckDB storage version"),
    ("v99.0.0", r"'v99.0.0' .* is not a DuckDB storage version: DuckDB .* does not know it: .*not a known DuckDB "
                r"version"),
])
def test_a_wrong_storage_version_is_a_clear_error_and_the_previous_night_stays_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, message: str,
) -> None:
    monkeypatch.delenv(SERVING_STORAGE_VERSION_ENV, raising=False)
    wh, tables = _warehouse(tmp_path / "wh.duckdb")
    root = tmp_path / "serving"
    good = publish_night(wh, root, run_date=date(2026, 2, 15), run_id="good", tables=tables)
    monkeypatch.setenv(SERVING_STORAGE_VERSION_ENV, setting)
    with pytest.raises(PublishError, match=message) as raised:
        publish_night(wh, root, run_date=date(2026, 2, 16), run_id="bad", tables=tables)
    assert "v1.0.0, is read by DuckDB 1.0 and later" in str(raised.value)
    assert current_night(root).run_id == "good"
    assert [p.name for p in (root / NIGHTS).iterdir()] == [good.path.name]
    monkeypatch.delenv(SERVING_STORAGE_VERSION_ENV)
    with pytest.raises(PublishError, match=r"'v1' \(from storage_version\)"):
        publish_night(wh, root, run_date=date(2026, 2, 16), run_id="bad", tables=tables, storage_version="v1")
