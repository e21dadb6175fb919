"""Tests of vitrine.simulate: determinism, the raw contract, the world's invariants and its distributions."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from PIL import Image

from vitrine.contract import TABLES
from vitrine.simulate import WorldSummary, simulate_world

SCENE_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "scene-photos"
needs_photos = pytest.mark.skipif(
    not SCENE_PHOTOS.is_dir(),
    reason=f"real scene photos not found at {SCENE_PHOTOS} (shared data set absent: photo tests skipped)",
)
START = date(2026, 1, 1)
SMALL = {"users": 60, "days": 20, "sales_per_day": 3}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _connect(world: Path, file_format: str = "csv") -> duckdb.DuckDBPyConnection:
    """Views over a world's tables (typed by DuckDB's reader) and its truth files."""
    con = duckdb.connect()
    for t in TABLES:
        path = world / f"{t.name}.{file_format}"
        reader = f"read_csv('{path}', header = true)" if file_format == "csv" else f"read_parquet('{path}')"
        con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM {reader}")
    for name in ("sales", "users", "images"):
        con.execute(f"CREATE VIEW truth_{name} AS SELECT * FROM read_csv('{world / 'truth' / name}.csv')")
    return con


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> WorldSummary:
    return simulate_world(tmp_path_factory.mktemp("small") / "world", seed=11, **SMALL)


@pytest.fixture(scope="module")
def year_world(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """About 1,000 users over a year: enough events for the distribution checks."""
    summary = simulate_world(
        tmp_path_factory.mktemp("year") / "world", users=1000, days=365, sales_per_day=4, seed=5
    )
    return _connect(summary.out)


# --- determinism --------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path, small_world: WorldSummary) -> None:
    again = simulate_world(tmp_path / "again", seed=11, **SMALL)
    first, second = _hashes(small_world.out), _hashes(again.out)
    assert len(first) > 10
    assert any(name.startswith("images/") for name in first)
    assert first == second


def test_different_seed_gives_a_different_world(tmp_path: Path, small_world: WorldSummary) -> None:
    other = _hashes(simulate_world(tmp_path / "other", seed=12, **SMALL).out)
    first = _hashes(small_world.out)
    for name in ("sales.csv", "users.csv", "visits.csv", "images/s000001_1.jpg"):
        assert first[name] != other[name], name


# --- the contract -------------------------------------------------------------------------------------------


def test_tables_have_exactly_the_contract_columns(small_world: WorldSummary) -> None:
    for table in TABLES:
        path = small_world.out / f"{table.name}.csv"
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert [c.strip('"') for c in header.split(",")] == list(table.column_names), table.name
        # No value holds a newline: one line per row after the header.
        assert small_world.counts[table.name] == len(path.read_text(encoding="utf-8").splitlines()) - 1


def test_summary_and_world_json(small_world: WorldSummary) -> None:
    meta = json.loads((small_world.out / "world.json").read_text())
    assert small_world.first_scoring_date == START + timedelta(days=SMALL["days"])
    assert meta["first_scoring_date"] == small_world.first_scoring_date.isoformat()
    assert meta["start"] == "2026-01-01"
    assert meta["counts"] == small_world.counts
    assert meta["photo_mode"] == small_world.photo_mode == "generated placeholder images"
    assert meta["parameters"]["seed"] == 11
    assert small_world.counts["sales"] == (SMALL["days"] + 1) * SMALL["sales_per_day"]
    assert small_world.n_images == small_world.counts["sale_images"]
    assert all(p.is_file() for p in small_world.files)
    json.dumps(small_world.to_dict())
    assert str(small_world.out) not in (small_world.out / "world.json").read_text()


def test_value_formats(small_world: WorldSummary) -> None:
    visits = pd.read_csv(small_world.out / "visits.csv", dtype=str)
    purchases = pd.read_csv(small_world.out / "purchases.csv", dtype=str)
    assert visits["visited_at"].str.match(TIMESTAMP).all()
    assert purchases["purchased_at"].str.match(TIMESTAMP).all()
    sales = pd.read_csv(small_world.out / "sales.csv")
    assert sales["opens_on"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    assert (sales["price_eur"] > 0).all() and (sales["price_eur"].round(2) == sales["price_eur"]).all()
    assert sales["latitude"].between(-90, 90).all() and sales["longitude"].between(-180, 180).all()
    assert (sales["sale_id"] >= 1).all() and sales["sale_id"].is_unique
    assert sales["title"].str.contains(" - ").all()


def test_images_referenced_exist(small_world: WorldSummary) -> None:
    images = pd.read_csv(small_world.out / "sale_images.csv")
    assert images["image_id"].is_unique
    for uri in images["uri"]:
        assert (small_world.out / "images" / uri).is_file(), uri
    positions = images.groupby("sale_id")["position"].agg(["min", "max", "count"])
    assert (positions["min"] == 1).all() and (positions["max"] == positions["count"]).all()
    assert positions["count"].between(1, 3).all()


def test_events_respect_sales_windows_and_signups(small_world: WorldSummary) -> None:
    con = _connect(small_world.out)
    assert _scalar(con, "SELECT count(*) FROM visits") > 100
    outside = """
        SELECT count(*) FROM visits v JOIN sales s USING (sale_id)
        WHERE CAST(v.visited_at AS DATE) NOT BETWEEN s.opens_on AND s.closes_on"""
    assert _scalar(con, outside) == 0
    before_signup = """
        SELECT count(*) FROM visits v JOIN users u USING (user_id)
        WHERE CAST(v.visited_at AS DATE) < u.signed_up_on"""
    assert _scalar(con, before_signup) == 0
    last_event = START + timedelta(days=SMALL["days"] - 1)
    assert _scalar(con, "SELECT max(CAST(visited_at AS DATE)) FROM visits") <= last_event
    assert _scalar(con, "SELECT max(CAST(purchased_at AS DATE)) FROM purchases") <= last_event
    open_on_scoring_day = (
        f"SELECT count(*) FROM sales "
        f"WHERE DATE '{small_world.first_scoring_date}' BETWEEN opens_on AND closes_on"
    )
    assert _scalar(con, open_on_scoring_day) >= SMALL["sales_per_day"]
    assert _scalar(con, "SELECT count(*) FROM sales WHERE closes_on < opens_on") == 0
    # Visits sorted by (visited_at, user_id, sale_id).
    visits = con.execute("SELECT * FROM visits").df()
    assert visits.equals(visits.sort_values(["visited_at", "user_id", "sale_id"]).reset_index(drop=True))


def test_purchases_are_unique_follow_visits_and_ordered(small_world: WorldSummary) -> None:
    con = _connect(small_world.out)
    assert _scalar(con, "SELECT count(*) FROM purchases") > 0
    duplicates = """
        SELECT count(*) FROM (SELECT user_id, sale_id FROM purchases GROUP BY ALL HAVING count(*) > 1)"""
    assert _scalar(con, duplicates) == 0
    without_visit = """
        SELECT count(*) FROM purchases p WHERE NOT EXISTS (
            SELECT 1 FROM visits v WHERE v.user_id = p.user_id AND v.sale_id = p.sale_id
              AND v.visited_at <= p.purchased_at
              AND CAST(v.visited_at AS DATE) = CAST(p.purchased_at AS DATE))"""
    assert _scalar(con, without_visit) == 0
    travellers = """
        SELECT DISTINCT round(p.amount_eur / s.price_eur, 6) FROM purchases p JOIN sales s USING (sale_id)"""
    assert {r[0] for r in con.execute(travellers).fetchall()} <= {1, 2, 3, 4}
    orders = con.execute("SELECT order_id, purchased_at FROM purchases").df()
    assert list(orders["order_id"]) == list(range(1, len(orders) + 1))
    assert orders["purchased_at"].is_monotonic_increasing


# --- distributions ------------------------------------------------------------------------------------------


def test_conversion_rate_is_realistic(year_world: duckdb.DuckDBPyConnection) -> None:
    rate = _scalar(year_world, "SELECT (SELECT count(*) FROM purchases) / (SELECT count(*) FROM visits)")
    assert 0.005 < rate < 0.05


def test_seasonality_shows_in_visits(year_world: duckdb.DuckDBPyConnection) -> None:
    shares = year_world.execute("""
        WITH n AS (
            SELECT month(v.visited_at) AS m, t.archetype, count(*) AS n
            FROM visits v JOIN truth_sales t USING (sale_id) GROUP BY ALL)
        SELECT m, archetype, n / sum(n) OVER (PARTITION BY m) AS share FROM n""").df()
    share = {(int(r.m), r.archetype): r.share for r in shares.itertuples()}
    assert share.get((1, "ski"), 0.0) > 2 * share.get((7, "ski"), 0.0)
    assert share.get((1, "ski"), 0.0) > 0.1
    assert share.get((7, "beach"), 0.0) > share.get((1, "beach"), 0.0)


def test_purchases_mostly_within_budget(year_world: duckdb.DuckDBPyConnection) -> None:
    within = _scalar(year_world, """
        SELECT avg(CASE WHEN s.price_eur <= u.budget_eur THEN 1.0 ELSE 0.0 END)
        FROM purchases p JOIN sales s USING (sale_id) JOIN truth_users u USING (user_id)""")
    assert within > 0.5


def test_activity_is_heavy_tailed(year_world: duckdb.DuckDBPyConnection) -> None:
    top_share = _scalar(year_world, """
        WITH per_user AS (
            SELECT u.user_id, count(v.user_id) AS n
            FROM users u LEFT JOIN visits v USING (user_id) GROUP BY ALL),
        ranked AS (
            SELECT n, row_number() OVER (ORDER BY n DESC) AS r, count(*) OVER () AS total FROM per_user)
        SELECT sum(n) FILTER (WHERE r <= total / 10) / sum(n) FROM ranked""")
    assert top_share > 0.3


def test_users_visit_their_preferred_archetype(year_world: duckdb.DuckDBPyConnection) -> None:
    n_archetypes = _scalar(year_world, "SELECT count(DISTINCT archetype) FROM truth_sales")
    share = _scalar(year_world, """
        SELECT avg(CASE WHEN s.archetype = u.main_archetype THEN 1.0 ELSE 0.0 END)
        FROM visits v JOIN truth_sales s USING (sale_id) JOIN truth_users u USING (user_id)""")
    assert n_archetypes >= 6
    assert share > 2 / n_archetypes


def test_descriptions_carry_the_archetype(year_world: duckdb.DuckDBPyConnection) -> None:
    ski_words = _scalar(year_world, """
        SELECT avg(CASE WHEN regexp_matches(s.description, 'ski|chalet|slopes|fondue|snow') THEN 1 ELSE 0 END)
        FROM sales s JOIN truth_sales t USING (sale_id) WHERE t.archetype = 'ski'""")
    beach_with_ski_words = _scalar(year_world, """
        SELECT avg(CASE WHEN regexp_matches(s.description, 'ski-in|chalet|slopes|fondue') THEN 1 ELSE 0 END)
        FROM sales s JOIN truth_sales t USING (sale_id) WHERE t.archetype = 'beach'""")
    assert ski_words > 0.9
    assert beach_with_ski_words < 0.2


# --- photos -------------------------------------------------------------------------------------------------


def test_placeholders_are_valid_images(small_world: WorldSummary) -> None:
    assert small_world.photo_mode == "generated placeholder images"
    truth = pd.read_csv(small_world.out / "truth" / "images.csv")
    assert (truth["source_photo"] == "placeholder").all()
    for path in sorted((small_world.out / "images").iterdir())[:20]:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.size == (128, 128)


@pytest.mark.shared
@needs_photos
def test_real_photos_are_copied_by_scene_class(tmp_path: Path, small_world: WorldSummary) -> None:
    summary = simulate_world(tmp_path / "real", seed=11, photos=SCENE_PHOTOS, **SMALL)
    assert summary.photo_mode == f"real photos from {SCENE_PHOTOS}"
    images = pd.read_csv(summary.out / "sale_images.csv")
    truth = pd.read_csv(summary.out / "truth" / "images.csv").merge(
        pd.read_csv(summary.out / "truth" / "sales.csv")[["sale_id", "archetype"]], on="sale_id"
    ).merge(images[["image_id", "uri", "position"]], on="image_id")
    assert (truth["source_photo"].str.split("/").str[0] == truth["scene_class"]).all()
    ski_heroes = truth[(truth["archetype"] == "ski") & (truth["position"] == 1)]
    assert len(ski_heroes) > 0
    assert ski_heroes["scene_class"].isin(["glacier", "mountain"]).all()
    for row in truth.itertuples():
        copied = summary.out / "images" / row.uri
        assert copied.read_bytes() == (SCENE_PHOTOS / row.source_photo).read_bytes()
        assert copied.suffix == Path(row.source_photo).suffix
    with Image.open(summary.out / "images" / truth["uri"].iloc[0]) as img:
        img.load()
        assert img.size[0] > 0
    # The photos change the image files only: sales, users and events are those of the placeholder world.
    for name in ("sales.csv", "users.csv", "visits.csv", "purchases.csv", "sale_images.csv"):
        assert (summary.out / name).read_bytes() == (small_world.out / name).read_bytes(), name


# --- formats and reruns -------------------------------------------------------------------------------------


def test_parquet_holds_the_same_rows_as_csv(tmp_path: Path, small_world: WorldSummary) -> None:
    summary = simulate_world(tmp_path / "pq", seed=11, file_format="parquet", **SMALL)
    csv_con, pq_con = _connect(small_world.out), _connect(summary.out, "parquet")
    for table in TABLES:
        columns = ", ".join(table.column_names)
        cast = ", ".join(
            f"CAST({c.name} AS {c.sql_type}) AS {c.name}" for c in table.columns
        )
        query = f"SELECT {cast} FROM {table.name} ORDER BY {columns}"
        from_csv = csv_con.execute(query).df()
        from_parquet = pq_con.execute(query).df()
        assert len(from_csv) > 0
        pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=False)
        names = pq_con.execute(f"SELECT * FROM {table.name} LIMIT 0").df().columns
        assert list(names) == list(table.column_names)
    assert not (summary.out / "visits.csv").exists()


def test_rerun_into_the_same_folder_leaves_nothing_stale(tmp_path: Path) -> None:
    out = tmp_path / "world"
    simulate_world(out, users=20, days=6, sales_per_day=4, seed=1)
    smaller = simulate_world(out, users=20, days=3, sales_per_day=2, seed=1, file_format="parquet")
    assert not any(out.glob("*.csv"))
    assert len(list((out / "images").iterdir())) == smaller.n_images
    (out / "images" / "notes.txt").write_text("not ours")
    simulate_world(out, users=20, days=3, sales_per_day=2, seed=1)
    assert (out / "images" / "notes.txt").exists()
    assert not any(out.glob("*.parquet"))


# --- bad parameters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"users": 0}, "users"),
        ({"days": 0}, "days"),
        ({"sales_per_day": 0}, "sales_per_day"),
        ({"seed": -1}, "seed"),
        ({"users": 2.5}, "users"),
        ({"file_format": "xlsx"}, "file_format"),
    ],
)
def test_bad_parameters_raise(tmp_path: Path, change: dict[str, object], message: str) -> None:
    params: dict[str, object] = {"users": 5, "days": 2, "sales_per_day": 1, "seed": 0, **change}
    with pytest.raises(ValueError, match=message):
        simulate_world(tmp_path / "w", **params)  # type: ignore[arg-type]
    assert not (tmp_path / "w").exists()


def test_bad_photo_folders_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a folder"):
        simulate_world(tmp_path / "w", users=5, days=2, sales_per_day=1, seed=0, photos=tmp_path / "missing")
    partial = tmp_path / "partial"
    (partial / "sea").mkdir(parents=True)
    (partial / "sea" / "1.jpg").write_bytes(b"\xff\xd8")
    (partial / "glacier").mkdir()
    with pytest.raises(ValueError, match=r"lacks images for scene classes .*glacier"):
        simulate_world(tmp_path / "w", users=5, days=2, sales_per_day=1, seed=0, photos=partial)
    assert not (tmp_path / "w").exists()
