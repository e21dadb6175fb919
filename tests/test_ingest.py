"""Ingest: hand-written contract files in tmp_path, loaded into a real DuckDB file, checked row by row."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vitrine.contract import TABLES, TABLES_BY_NAME
from vitrine.ingest import IngestError, IngestReport, ingest_folder, validate
from vitrine.ingest.validate import COLUMN_CHECKS, ROW_CHECKS, offset_case

SALES_HEADER = (
    "sale_id,title,description,destination_city,destination_country,latitude,longitude,price_eur,opens_on,closes_on"
)
USERS_HEADER = "user_id,signed_up_on,home_country"
VISITS_HEADER = "user_id,sale_id,visited_at"
PURCHASES_HEADER = "order_id,user_id,sale_id,purchased_at,amount_eur"
IMAGES_HEADER = "image_id,sale_id,uri,position"


def sale(
    sale_id: object = 1,
    *,
    title: str = "Riad in Marrakech",
    price: str = "499",
    opens: str = "2026-01-01",
    closes: str = "2026-01-31",
    lat: str = "31.63",
    lon: str = "-8.0",
) -> str:
    return f"{sale_id},{title},Pool and hammam,Marrakech,MA,{lat},{lon},{price},{opens},{closes}"


def write(folder: Path, name: str, *lines: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def base_folder(root: Path, name: str = "in") -> Path:
    """Two sales, two users: what the event tables reference."""
    folder = root / name
    write(folder, "sales.csv", SALES_HEADER, sale(1), sale(2, title="Lodge"))
    write(folder, "users.csv", USERS_HEADER, "10,2025-05-01,FR", "11,2025-06-01,DE")
    return folder


def query(wh: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def rejects(wh: Path, table: str) -> list[tuple[Any, ...]]:
    """(source_file, line, reason) of a table's rejects, in file and line order."""
    return query(
        wh, "SELECT source_file, line, reason FROM raw.rejects WHERE table_name = ? ORDER BY source_file, line", [table]
    )


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "vitrine.duckdb"


# --- whole-file problems: IngestError, nothing loaded -------------------------------------------------------------


def test_missing_required_column_raises_naming_file_and_column_and_loads_nothing(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", "user_id,visited_at", "10,2026-01-02 10:00:00")
    with pytest.raises(IngestError) as err:
        ingest_folder(folder, warehouse=wh)
    assert "visits.csv" in str(err.value)
    assert "sale_id" in str(err.value)
    assert "visited_at" not in str(err.value).split("missing required column(s)")[1]
    # sales.csv and users.csv were fine, but nothing of the ingest is committed
    tables = query(wh, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'")
    assert tables == []


def test_all_problems_are_reported_together(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", "user_id,visited_at", "10,2026-01-02 10:00:00")
    (folder / "purchases.csv").write_bytes(b"")
    with pytest.raises(IngestError) as err:
        ingest_folder(folder, warehouse=wh)
    assert len(err.value.problems) == 2
    assert any("purchases.csv" in p and "empty" in p for p in err.value.problems)
    assert any("visits.csv" in p and "sale_id" in p for p in err.value.problems)


def test_zero_byte_file_raises_naming_it(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    (folder / "visits.csv").write_bytes(b"")
    with pytest.raises(IngestError, match=r"visits\.csv: empty file"):
        ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'") == [(0,)]


def test_header_only_file_is_valid_and_loads_zero_rows(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", VISITS_HEADER)
    report = ingest_folder(folder, warehouse=wh)
    assert report.tables["visits"].rows_read == 0
    assert [f.status for f in report.tables["visits"].files] == ["loaded"]
    assert query(wh, "SELECT count(*) FROM raw.visits") == [(0,)]
    assert query(wh, "SELECT path, rows_read FROM raw.ingested_files WHERE table_name = 'visits'") == [
        ("visits.csv", 0)
    ]
    assert query(wh, "SELECT count(*) FROM raw.sales") == [(2,)]


def test_error_while_loading_rolls_back_everything(tmp_path: Path, wh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", VISITS_HEADER, "10,1,2026-01-02 10:00:00")
    ingest_folder(base_folder(tmp_path, "first"), warehouse=wh)  # a committed batch to keep
    from vitrine.ingest import load

    real = load._fill_counts

    def failing(con: Any, plan: Any, staged: Any, batch_id: int) -> None:
        if plan.table.name == "visits":
            raise RuntimeError("disk full")
        real(con, plan, staged, batch_id)

    monkeypatch.setattr(load, "_fill_counts", failing)
    before = query(wh, "SELECT count(*) FROM raw.sales")
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT count(*) FROM raw.sales") == before
    assert query(wh, "SELECT count(*) FROM raw.visits") == [(0,)]
    assert query(wh, "SELECT count(*) FROM raw.ingest_batches") == [(1,)]


# --- row rejects ------------------------------------------------------------------------------------------------


def test_malformed_dates_and_numbers_are_rejected_with_reasons(tmp_path: Path, wh: Path) -> None:
    folder = tmp_path / "in"
    write(
        folder,
        "sales.csv",
        SALES_HEADER,
        sale(1),
        sale(2, opens="2026-13-01"),
        sale(3, price="cheap"),
        sale(4, lat="north"),
        sale(5, opens="01/02/2026"),
        sale("5x"),
        sale(6, price="nan"),
        sale(7, price="12.5"),
    )
    write(folder, "users.csv", USERS_HEADER, "10,2025-05-01,FR", "11,yesterday,DE", "12.0,2025-05-01,FR")
    report = ingest_folder(folder, warehouse=wh)
    assert rejects(wh, "sales") == [
        ("sales.csv", 3, "malformed opens_on: '2026-13-01'"),
        ("sales.csv", 4, "malformed price_eur: 'cheap'"),
        ("sales.csv", 5, "malformed latitude: 'north'"),
        ("sales.csv", 6, "malformed opens_on: '01/02/2026'"),
        ("sales.csv", 7, "malformed sale_id: '5x'"),
        ("sales.csv", 8, "malformed price_eur: 'nan'"),
    ]
    assert rejects(wh, "users") == [
        ("users.csv", 3, "malformed signed_up_on: 'yesterday'"),
        ("users.csv", 4, "malformed user_id: '12.0'"),
    ]
    assert query(wh, "SELECT sale_id, price_eur FROM raw.sales ORDER BY sale_id") == [(1, 499.0), (7, 12.5)]
    assert query(wh, "SELECT user_id FROM raw.users") == [(10,)]
    assert report.tables["sales"].rows_rejected == 6


def test_identifiers_must_be_positive_integers(tmp_path: Path, wh: Path) -> None:
    folder = tmp_path / "in"
    write(
        folder,
        "users.csv",
        USERS_HEADER,
        "007,2025-05-01,FR",
        "0,2025-05-01,FR",
        "-3,2025-05-01,FR",
        "1e3,2025-05-01,FR",
        " 8,2025-05-01,FR",
        ",2025-05-01,FR",
    )
    ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT user_id FROM raw.users") == [(7,)]
    assert [r[2] for r in rejects(wh, "users")] == [
        "malformed user_id: '0'",
        "malformed user_id: '-3'",
        "malformed user_id: '1e3'",
        "malformed user_id: ' 8'",
        "missing user_id",
    ]


def test_missing_required_value_is_rejected_optional_is_null(tmp_path: Path, wh: Path) -> None:
    folder = tmp_path / "in"
    write(
        folder, "sales.csv", SALES_HEADER, "1,,,,,,,99,2026-01-01,2026-01-02", "2,T,D,C,FR,1,1,,2026-01-01,2026-01-02"
    )
    ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT sale_id, title, latitude FROM raw.sales") == [(1, None, None)]
    assert rejects(wh, "sales") == [("sales.csv", 3, "missing price_eur")]


def test_negative_or_zero_price_is_rejected(tmp_path: Path, wh: Path) -> None:
    folder = tmp_path / "in"
    write(folder, "sales.csv", SALES_HEADER, sale(1, price="-20"), sale(2, price="0"), sale(3, price="0.01"))
    ingest_folder(folder, warehouse=wh)
    assert rejects(wh, "sales") == [
        ("sales.csv", 2, "price_eur must be positive"),
        ("sales.csv", 3, "price_eur must be positive"),
    ]
    assert query(wh, "SELECT sale_id FROM raw.sales") == [(3,)]


def test_other_range_rules(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "sale_images.csv", IMAGES_HEADER, "1,1,s1_1.jpg,1", "2,1,s1_2.jpg,0", "3,2,  ,2")
    write(folder, "purchases.csv", PURCHASES_HEADER, "1,10,1,2026-01-02T10:00:00Z,-5", "2,10,1,2026-01-02T10:00:00Z,0")
    write(folder, "sales.csv", SALES_HEADER, sale(1), sale(2), sale(3, lat="91"), sale(4, lon="-180.5"))
    ingest_folder(folder, warehouse=wh)
    assert [r[2] for r in rejects(wh, "sales")] == ["latitude out of range: 91", "longitude out of range: -180.5"]
    assert [r[2] for r in rejects(wh, "sale_images")] == ["position must be >= 1", "missing uri"]
    assert [r[2] for r in rejects(wh, "purchases")] == ["amount_eur must not be negative"]
    assert query(wh, "SELECT order_id, amount_eur FROM raw.purchases") == [(2, 0.0)]


def test_closes_on_before_opens_on_is_rejected(tmp_path: Path, wh: Path) -> None:
    folder = tmp_path / "in"
    write(
        folder,
        "sales.csv",
        SALES_HEADER,
        sale(1, opens="2026-02-10", closes="2026-02-09"),
        sale(2, opens="2026-02-10", closes="2026-02-10"),
    )
    ingest_folder(folder, warehouse=wh)
    assert rejects(wh, "sales") == [("sales.csv", 2, "closes_on before opens_on")]
    assert query(wh, "SELECT sale_id FROM raw.sales") == [(2,)]


def test_visit_or_purchase_of_unknown_sale_or_user_is_rejected(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(
        folder,
        "visits.csv",
        VISITS_HEADER,
        "10,1,2026-01-02 10:00:00",
        "10,123,2026-01-02 10:00:00",
        "99,1,2026-01-02 10:00:00",
        "99,123,2026-01-02 10:00:00",
    )
    write(folder, "purchases.csv", PURCHASES_HEADER, "1,10,1,2026-01-02 11:00:00,499", "2,10,7,2026-01-02 11:00:00,5")
    write(folder, "sale_images.csv", IMAGES_HEADER, "1,1,s1_1.jpg,1", "2,42,s42_1.jpg,1")
    ingest_folder(folder, warehouse=wh)
    assert rejects(wh, "visits") == [
        ("visits.csv", 3, "unknown sale_id 123"),
        ("visits.csv", 4, "unknown user_id 99"),
        ("visits.csv", 5, "unknown user_id 99"),
    ]
    assert rejects(wh, "purchases") == [("purchases.csv", 3, "unknown sale_id 7")]
    assert rejects(wh, "sale_images") == [("sale_images.csv", 3, "unknown sale_id 42")]
    assert query(wh, "SELECT user_id, sale_id FROM raw.visits") == [(10, 1)]


def test_references_see_rows_of_earlier_ingests_and_of_this_one(tmp_path: Path, wh: Path) -> None:
    ingest_folder(base_folder(tmp_path, "day1"), warehouse=wh)
    folder = tmp_path / "day2"
    write(folder, "sales.csv", SALES_HEADER, sale(3))
    write(folder, "visits.csv", VISITS_HEADER, "10,1,2026-01-03 10:00:00", "11,3,2026-01-03 10:00:00")
    report = ingest_folder(folder, warehouse=wh)
    assert report.tables["visits"].rows_accepted == 2
    assert rejects(wh, "visits") == []


def test_payload_is_the_rows_text(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", "visited_at,sale_id,user_id,note", "2026-01-02T10:00:00+02:00,5,10,hello")
    ingest_folder(folder, warehouse=wh)
    (payload,) = query(wh, "SELECT payload FROM raw.rejects WHERE table_name = 'visits'")[0]
    assert json.loads(payload) == {"user_id": "10", "sale_id": "5", "visited_at": "2026-01-02T10:00:00+02:00"}


# --- duplicates ---------------------------------------------------------------------------------------------------


def test_exact_duplicate_events_within_a_file(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(
        folder,
        "visits.csv",
        VISITS_HEADER,
        "10,1,2026-01-02 10:00:00",
        "10,2,2026-01-02 10:00:00",
        "10,1,2026-01-02 10:00:00",
        "10,1,2026-01-02T12:00:00+02:00",  # the same instant
        "10,1,2026-01-02 10:00:01",
    )
    ingest_folder(folder, warehouse=wh)
    assert rejects(wh, "visits") == [
        ("visits.csv", 4, "exact duplicate of line 2"),
        ("visits.csv", 5, "exact duplicate of line 2"),
    ]
    assert query(wh, "SELECT _line FROM raw.visits ORDER BY _line") == [(2,), (3,), (6,)]


def test_duplicates_across_files_of_a_table_folder_name_the_first_file(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits/2026-01-02.csv", VISITS_HEADER, "10,1,2026-01-02 10:00:00")
    write(folder, "visits/2026-01-03.csv", VISITS_HEADER, "11,1,2026-01-03 10:00:00", "10,1,2026-01-02 10:00:00")
    report = ingest_folder(folder, warehouse=wh)
    assert rejects(wh, "visits") == [("visits/2026-01-03.csv", 3, "exact duplicate of visits/2026-01-02.csv line 2")]
    assert [(f.path, f.rows_read, f.rows_accepted) for f in report.tables["visits"].files] == [
        ("visits/2026-01-02.csv", 1, 1),
        ("visits/2026-01-03.csv", 2, 1),
    ]
    assert query(wh, "SELECT _source_file, _line FROM raw.visits ORDER BY ALL") == [
        ("visits/2026-01-02.csv", 2),
        ("visits/2026-01-03.csv", 2),
    ]


def test_exact_duplicate_of_a_previous_ingest(tmp_path: Path, wh: Path) -> None:
    day1 = base_folder(tmp_path, "day1")
    write(day1, "visits.csv", VISITS_HEADER, "10,1,2026-01-02 10:00:00", "11,2,2026-01-02 11:00:00")
    ingest_folder(day1, warehouse=wh)
    day2 = tmp_path / "day2"  # a re-export overlapping day 1
    write(day2, "visits.csv", VISITS_HEADER, "11,2,2026-01-02 11:00:00", "11,1,2026-01-03 09:00:00")
    report = ingest_folder(day2, warehouse=wh)
    assert rejects(wh, "visits") == [("visits.csv", 2, "duplicate of a row already loaded")]
    assert report.tables["visits"].rows_accepted == 1
    assert query(wh, "SELECT count(*) FROM raw.visits") == [(3,)]


def test_purchase_order_id_conflicts(tmp_path: Path, wh: Path) -> None:
    day1 = base_folder(tmp_path, "day1")
    write(day1, "purchases.csv", PURCHASES_HEADER, "1,10,1,2026-01-02 10:00:00,499")
    ingest_folder(day1, warehouse=wh)
    day2 = tmp_path / "day2"
    write(
        day2,
        "purchases.csv",
        PURCHASES_HEADER,
        "1,10,1,2026-01-02 10:00:00,499",  # already loaded, identical
        "1,10,1,2026-01-02 10:00:00,450",  # already loaded, other values
        "2,11,2,2026-01-03 10:00:00,99",
        "2,11,2,2026-01-03 10:00:00,98",  # repeated in this batch with other values
    )
    ingest_folder(day2, warehouse=wh)
    assert rejects(wh, "purchases") == [
        ("purchases.csv", 2, "duplicate of a row already loaded"),
        ("purchases.csv", 3, "order_id already loaded with different values"),
        ("purchases.csv", 5, "repeated order_id with different values (first at line 4)"),
    ]
    assert query(wh, "SELECT order_id, amount_eur FROM raw.purchases ORDER BY order_id") == [(1, 499.0), (2, 99.0)]


def test_entity_resent_with_changed_values_adds_a_version(tmp_path: Path, wh: Path) -> None:
    ingest_folder(base_folder(tmp_path, "day1"), warehouse=wh)
    day2 = tmp_path / "day2"
    write(day2, "sales.csv", SALES_HEADER, sale(1, price="399"), sale(2, title="Lodge"))  # 1 changed, 2 identical
    write(day2, "users.csv", USERS_HEADER, "10,2025-05-01,ES")
    report = ingest_folder(day2, warehouse=wh)
    assert report.tables["sales"].rows_accepted == 1
    assert rejects(wh, "sales") == [("sales.csv", 3, "duplicate of a row already loaded")]
    assert query(wh, "SELECT sale_id, price_eur, _batch_id FROM raw.sales ORDER BY sale_id, _batch_id") == [
        (1, 499.0, 1),
        (1, 399.0, 2),
        (2, 499.0, 1),
    ]
    assert query(wh, "SELECT home_country, _batch_id FROM raw.users WHERE user_id = 10 ORDER BY _batch_id") == [
        ("FR", 1),
        ("ES", 2),
    ]
    # back to the first values: a new version again (compared with the latest version, not any old one)
    day3 = tmp_path / "day3"
    write(day3, "sales.csv", SALES_HEADER, sale(1))
    assert ingest_folder(day3, warehouse=wh).tables["sales"].rows_accepted == 1


# --- structure, encodings, line numbers ---------------------------------------------------------------------------


def test_invalid_utf8_line_is_rejected_with_its_line_number(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    (folder / "visits.csv").write_bytes(
        b"user_id,sale_id,visited_at\n10,1,2026-01-02 10:00:00\n10,\xff\xfe,2026-01-02 11:00:00\n"
        b"11,2,2026-01-02 12:00:00\n"
    )
    report = ingest_folder(folder, warehouse=wh)
    assert rejects(wh, "visits") == [("visits.csv", 3, "invalid UTF-8")]
    assert query(wh, "SELECT user_id, _line FROM raw.visits ORDER BY _line") == [(10, 2), (11, 4)]
    assert report.tables["visits"].rows_read == 3


def test_wrong_field_count_is_rejected(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", VISITS_HEADER, "10,1", "10,1,2026-01-02 10:00:00,extra", "11,2,2026-01-02 10:00:00")
    ingest_folder(folder, warehouse=wh)
    assert rejects(wh, "visits") == [
        ("visits.csv", 2, "wrong number of fields (expected 3, found 2)"),
        ("visits.csv", 3, "wrong number of fields (expected 3, found 4)"),
    ]
    (payload,) = query(wh, "SELECT payload FROM raw.rejects WHERE line = 2")[0]
    assert payload == "10,1"
    assert query(wh, "SELECT _line FROM raw.visits") == [(4,)]


LINES_FILE = [
    VISITS_HEADER,  # 1
    "10,1,2026-01-02 10:00:00",  # 2 ok
    "10,1",  # 3 structural
    "10,2,2026-01-02 10:00:00",  # 4 ok
    "x,2,2026-01-02 10:00:00",  # 5 malformed
    "11,1,2026-01-02 10:00:00,9",  # 6 structural
    "11,1,2026-01-02 10:00:00,9",  # 7 structural
    "11,9,2026-01-02 10:00:00",  # 8 unknown sale
    "11,1,2026-01-02 10:00:00",  # 9 ok
    "10,1,2026-01-02 10:00:00",  # 10 duplicate of line 2
    '11,"2",2026-01-02 10:00:00',  # 11 ok (quoted)
]


@pytest.mark.parametrize("case_limit", [validate.LINE_CASE_LIMIT, 0], ids=["case-tree", "asof-join"])
def test_line_numbers_of_rejects_and_accepted_rows(
    tmp_path: Path, wh: Path, monkeypatch: pytest.MonkeyPatch, case_limit: int
) -> None:
    monkeypatch.setattr(validate, "LINE_CASE_LIMIT", case_limit)
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", *LINES_FILE)
    ingest_folder(folder, warehouse=wh)
    assert [(line, reason.split(" (")[0]) for _, line, reason in rejects(wh, "visits")] == [
        (3, "wrong number of fields"),
        (5, "malformed user_id: 'x'"),
        (6, "wrong number of fields"),
        (7, "wrong number of fields"),
        (8, "unknown sale_id 9"),
        (10, "exact duplicate of line 2"),
    ]
    assert query(wh, "SELECT _line, user_id, sale_id FROM raw.visits ORDER BY _line") == [
        (2, 10, 1),
        (4, 10, 2),
        (9, 11, 1),
        (11, 11, 2),
    ]


def test_offset_case_matches_the_line_formula() -> None:
    rejected = [3, 6, 7, 12, 13, 14, 30]  # r_1 < r_2 < ...
    gaps: dict[int, int] = {}
    for i, r in enumerate(rejected, start=1):
        gaps[r - i - 1] = i  # g_i -> i (the largest i for a g)
    expr = offset_case("k", sorted(gaps.items()))
    with duckdb.connect() as con:
        got = con.execute(f"SELECT k, {expr} FROM range(1, 30) t(k) ORDER BY k").fetchall()
    for k, offset in got:
        line = k + 1 + offset
        assert line == k + 1 + sum(1 for i, r in enumerate(rejected, start=1) if r - i - 1 < k)
        assert line not in rejected


def test_blank_lines_are_noted(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", VISITS_HEADER, "10,1,2026-01-02 10:00:00", "", "11,1,2026-01-02 10:00:00")
    report = ingest_folder(folder, warehouse=wh)
    assert any("physical lines" in n for n in report.tables["visits"].files[0].notes)


def test_timestamps_with_offsets_are_converted_to_utc(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(
        folder,
        "visits.csv",
        VISITS_HEADER,
        "10,1,2026-01-02T10:00:00Z",
        "10,1,2026-01-02T10:00:00+02:00",
        "10,1,2026-01-02 10:00:00-0530",
        "10,1,2026-01-02 10:00:00",
        "10,1,2026-01-02T10:00:00.250+01:00",
        "10,1,2026-01-02",
        "10,1,2026-01-02T25:00:00Z",
        "10,1,epoch",
    )
    ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT _line, visited_at FROM raw.visits ORDER BY _line") == [
        (2, datetime(2026, 1, 2, 10, 0)),
        (3, datetime(2026, 1, 2, 8, 0)),
        (4, datetime(2026, 1, 2, 15, 30)),
        (6, datetime(2026, 1, 2, 9, 0, 0, 250000)),
        (7, datetime(2026, 1, 2, 0, 0)),
    ]
    assert rejects(wh, "visits") == [
        ("visits.csv", 5, "exact duplicate of line 2"),
        ("visits.csv", 8, "malformed visited_at: '2026-01-02T25:00:00Z'"),
        ("visits.csv", 9, "malformed visited_at: 'epoch'"),
    ]


def test_utc_conversion_does_not_depend_on_the_callers_time_zone(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", VISITS_HEADER, "10,1,2026-01-02T10:00:00+02:00", "11,1,2026-01-02 10:00:00")
    wh.parent.mkdir(parents=True)
    with duckdb.connect(str(wh)) as con:
        con.execute("SET TimeZone = 'America/New_York'")
        ingest_folder(folder, con=con)
        assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("America/New_York",)
        rows = con.execute("SELECT user_id, visited_at FROM raw.visits ORDER BY user_id").fetchall()
    assert rows == [(10, datetime(2026, 1, 2, 8, 0)), (11, datetime(2026, 1, 2, 10, 0))]


def test_bom_and_crlf_line_endings(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    (folder / "visits.csv").write_bytes(
        b"\xef\xbb\xbfuser_id,sale_id,visited_at\r\n10,1,2026-01-02 10:00:00\r\n10,1\r\n11,2,2026-01-02 11:00:00\r\n"
    )
    report = ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT user_id, _line FROM raw.visits ORDER BY _line") == [(10, 2), (11, 4)]
    assert rejects(wh, "visits") == [("visits.csv", 3, "wrong number of fields (expected 3, found 2)")]
    assert report.tables["visits"].files[0].notes == []


def test_parquet_input(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    pq.write_table(
        pa.table(
            {
                "user_id": pa.array([10, 11, 99, 10], pa.int64()),
                "sale_id": pa.array([1, 2, 1, None], pa.int64()),
                "visited_at": pa.array(
                    [datetime(2026, 1, 2, 10), datetime(2026, 1, 2, 11), datetime(2026, 1, 2, 12), None],
                    pa.timestamp("us"),
                ),
                "extra": pa.array(["a", "b", "c", "d"]),
            }
        ),
        folder / "visits.parquet",
    )
    report = ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT user_id, sale_id, visited_at, _line FROM raw.visits ORDER BY _line") == [
        (10, 1, datetime(2026, 1, 2, 10), 1),
        (11, 2, datetime(2026, 1, 2, 11), 2),
    ]
    assert rejects(wh, "visits") == [
        ("visits.parquet", 3, "unknown user_id 99"),
        ("visits.parquet", 4, "missing sale_id"),
    ]
    assert report.tables["visits"].files[0].extra_columns == ("extra",)


def test_parquet_missing_required_column_raises(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    pq.write_table(pa.table({"user_id": [10], "visited_at": [datetime(2026, 1, 2)]}), folder / "visits.parquet")
    with pytest.raises(IngestError, match=r"visits\.parquet: missing required column\(s\) sale_id"):
        ingest_folder(folder, warehouse=wh)


def test_gzipped_csv_input(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    with gzip.open(folder / "visits.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(f"{VISITS_HEADER}\n10,1,2026-01-02 10:00:00\n10,1\n11,2,2026-01-02 11:00:00\n")
    ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT _source_file, _line FROM raw.visits ORDER BY _line") == [
        ("visits.csv.gz", 2),
        ("visits.csv.gz", 4),
    ]
    assert rejects(wh, "visits") == [("visits.csv.gz", 3, "wrong number of fields (expected 3, found 2)")]


# --- counts, idempotency, appends -----------------------------------------------------------------------------


def test_rows_read_equal_accepted_plus_rejected(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", *LINES_FILE)
    report = ingest_folder(folder, warehouse=wh)
    visits = report.tables["visits"]
    assert (visits.rows_read, visits.rows_accepted, visits.rows_rejected) == (10, 4, 6)
    for name, table in report.tables.items():
        n_raw = query(wh, f"SELECT count(*) FROM raw.{name}")[0][0]
        n_rej = query(wh, "SELECT count(*) FROM raw.rejects WHERE table_name = ?", [name])[0][0]
        assert table.rows_read == n_raw + n_rej == table.rows_accepted + table.rows_rejected
    assert query(wh, "SELECT sum(rows_read), sum(rows_accepted), sum(rows_rejected) FROM raw.ingested_files") == [
        (14, 8, 6)
    ]


def test_ingesting_the_same_folder_twice_adds_nothing(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits.csv", *LINES_FILE)
    first = ingest_folder(folder, warehouse=wh)

    def counts() -> list[tuple[Any, ...]]:
        return [
            query(wh, f"SELECT count(*) FROM raw.{t}")[0]
            for t in (*TABLES_BY_NAME, "rejects", "ingest_batches", "ingested_files")
        ]

    before = counts()
    second = ingest_folder(folder, warehouse=wh)
    assert counts() == before
    assert first.batch_id == 1
    assert second.batch_id is None
    assert second.rows_read == 0
    assert {f.status for t in second.tables.values() for f in t.files} == {"skipped"}
    assert "already ingested (batch 1)" in second.format_table()


def test_a_copy_of_a_file_in_the_same_folder_is_skipped(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    write(folder, "visits/a.csv", VISITS_HEADER, "10,1,2026-01-02 10:00:00")
    write(folder, "visits/b.csv", VISITS_HEADER, "10,1,2026-01-02 10:00:00")
    report = ingest_folder(folder, warehouse=wh)
    assert [(f.path, f.status, f.skip_reason) for f in report.tables["visits"].files] == [
        ("visits/a.csv", "loaded", None),
        ("visits/b.csv", "skipped", "same content as visits/a.csv"),
    ]
    assert query(wh, "SELECT count(*) FROM raw.rejects") == [(0,)]


def test_a_folder_with_later_events_appends(tmp_path: Path, wh: Path) -> None:
    day1 = base_folder(tmp_path, "day1")
    write(day1, "visits.csv", VISITS_HEADER, "10,1,2026-01-02 10:00:00")
    ingest_folder(day1, warehouse=wh)
    day2 = base_folder(tmp_path, "day2")  # the same sales and users files again, plus the next day's events
    write(day2, "visits.csv", VISITS_HEADER, "10,2,2026-01-03 10:00:00", "11,1,2026-01-03 11:00:00")
    write(day2, "purchases.csv", PURCHASES_HEADER, "1,11,1,2026-01-03 11:05:00,499")
    report = ingest_folder(day2, warehouse=wh)
    assert report.batch_id == 2
    assert [f.status for f in report.tables["sales"].files] == ["skipped"]
    assert query(wh, "SELECT _batch_id, count(*) FROM raw.visits GROUP BY ALL ORDER BY 1") == [(1, 1), (2, 2)]
    assert query(wh, "SELECT count(*) FROM raw.purchases") == [(1,)]
    assert query(wh, "SELECT count(*) FROM raw.rejects") == [(0,)]
    assert query(wh, "SELECT batch_id, source_dir FROM raw.ingest_batches ORDER BY 1") == [
        (1, str(day1.resolve())),
        (2, str(day2.resolve())),
    ]


# --- folder layout, report, schema --------------------------------------------------------------------------------


def test_ignored_files_images_root_and_report(tmp_path: Path, wh: Path) -> None:
    folder = base_folder(tmp_path)
    (folder / "images").mkdir()
    write(folder, "world.json", "{}")
    write(folder, "truth/sales.csv", "x")
    write(folder, "visits.csv", "user_id,sale_id,visited_at,referrer", "10,1,2026-01-02 10:00:00,mail")
    report = ingest_folder(folder, warehouse=wh)
    assert isinstance(report, IngestReport)
    assert report.ignored == ["truth/", "world.json"]
    assert report.images_root == str((folder / "images").resolve())
    assert query(wh, "SELECT images_root FROM raw.ingest_batches") == [(str((folder / "images").resolve()),)]
    text = report.format_table()
    assert "visits" in text and "ignored: truth/, world.json" in text
    assert "extra column(s) ignored: referrer" in text
    data = report.to_dict()
    json.dumps(data)
    assert data["tables"]["visits"]["rows_accepted"] == 1
    assert data["tables"]["visits"]["files"][0]["extra_columns"] == ["referrer"]


def test_optional_column_absent_from_header_loads_null(tmp_path: Path, wh: Path) -> None:
    folder = tmp_path / "in"
    write(folder, "users.csv", "user_id,signed_up_on", "10,2025-05-01")
    report = ingest_folder(folder, warehouse=wh)
    assert query(wh, "SELECT user_id, home_country FROM raw.users") == [(10, None)]
    assert report.tables["users"].files[0].missing_optional_columns == ("home_country",)


def test_raw_tables_have_contract_types_and_lineage(tmp_path: Path, wh: Path) -> None:
    ingest_folder(base_folder(tmp_path), warehouse=wh)
    for table in TABLES:
        cols = query(
            wh,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
            [table.name],
        )
        assert cols == [(c.name, c.sql_type) for c in table.columns] + [
            ("_batch_id", "BIGINT"),
            ("_source_file", "VARCHAR"),
            ("_line", "BIGINT"),
            ("_ingested_at", "TIMESTAMP"),
        ]


def test_rules_name_contract_columns() -> None:
    for (table, column), _ in COLUMN_CHECKS.items():
        assert column in TABLES_BY_NAME[table].column_names
    for table in ROW_CHECKS:
        assert table in TABLES_BY_NAME


def test_warehouse_defaults_to_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "elsewhere" / "wh.duckdb"
    monkeypatch.setenv("VITRINE_WAREHOUSE", str(target))
    report = ingest_folder(base_folder(tmp_path))
    assert report.warehouse == str(target.resolve())
    assert query(target, "SELECT count(*) FROM raw.users") == [(2,)]
