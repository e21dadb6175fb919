"""End to end on a small simulated world: simulate -> ingest -> dbt build (models + dbt tests), then the demo."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from vitrine.dbt_runner import DbtError, run_dbt
from vitrine.demo import DemoError, run_demo
from vitrine.ingest import ingest_folder
from vitrine.simulate import simulate_world

STAGING = ("stg_sales", "stg_users", "stg_sale_images", "stg_visits", "stg_purchases")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    """A 300-user world, ingested and built once for the module."""
    root = tmp_path_factory.mktemp("e2e")
    world = root / "world"
    summary = simulate_world(world, users=300, days=45, sales_per_day=8, seed=11, start=date(2026, 1, 1))
    warehouse = root / "vitrine.duckdb"
    ingest_folder(world, warehouse=warehouse)
    run = run_dbt(["build"], warehouse=warehouse)
    return warehouse, world, (summary, run)


def test_dbt_build_runs_every_model_and_test(built: tuple[Path, Path, object]) -> None:
    _, _, (_, run) = built
    counts = run.counts()
    assert counts.get("model:success", 0) >= len(STAGING)
    assert counts.get("test:pass", 0) >= 25  # primary keys, foreign keys, expressions
    assert not run.failures()


def test_nothing_is_lost_between_files_raw_and_staging(built: tuple[Path, Path, object]) -> None:
    warehouse, _, (summary, _) = built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.rejects").fetchone()[0] == 0  # the simulator keeps the contract
        for table in ("sales", "users", "sale_images", "visits", "purchases"):
            staged = con.execute(f"select count(*) from main.stg_{table}").fetchone()[0]
            assert staged == summary.counts[table] > 0, table


def test_staging_keeps_the_latest_version_of_an_entity(built: tuple[Path, Path, object], tmp_path: Path) -> None:
    warehouse, _, _ = built
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        sale_id, price = con.execute(
            "select sale_id, price_eur from main.stg_sales order by sale_id limit 1"
        ).fetchone()
        con.execute(
            "insert into raw.sales select * replace (price_eur * 2 as price_eur, _batch_id + 1 as _batch_id) "
            "from raw.sales where sale_id = ?",
            [sale_id],
        )
    run_dbt(["build", "--select", "stg_sales"], warehouse=copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        rows = con.execute("select price_eur from main.stg_sales where sale_id = ?", [sale_id]).fetchall()
    assert rows == [(price * 2,)]


def test_dbt_tests_catch_a_broken_foreign_key(built: tuple[Path, Path, object], tmp_path: Path) -> None:
    """Rows written to raw behind ingest's back (no reject check) fail the night: the incremental stg_visits skips a
    row in a batch it already staged, which its completeness test reports, and once staged (a full refresh) the
    relationships test catches its unknown sale."""
    warehouse, _, _ = built
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "insert into raw.visits select user_id, 999999999 as sale_id, visited_at, _batch_id, _source_file, "
            "_line, _ingested_at from raw.visits limit 1"
        )
    with pytest.raises(DbtError, match="stg_visits_hold_every_raw_visit"):  # the night runs every test
        run_dbt(["build", "--select", "stg_visits", "stg_sales", "stg_visits_hold_every_raw_visit"], warehouse=copy)
    with pytest.raises(DbtError, match="relationships_stg_visits_sale_id"):
        run_dbt(["build", "--select", "stg_visits", "stg_sales", "--full-refresh"], warehouse=copy)


def test_each_scored_pair_key_is_tested_once_tonight_by_recommender_scores(
    built: tuple[Path, Path, object], tmp_path: Path,
) -> None:
    """int_candidate_features' key test covers the days before tonight; tonight's rows are recommender_scores' (a
    view of them) and its key test: a duplicate on either side fails exactly the test that covers it."""
    warehouse, _, _ = built
    key_tests = {"int_candidate_features": "test.vitrine.unique_combination_of_columns_int_candidate_features_",
                 "recommender_scores": "test.vitrine.unique_combination_of_columns_recommender_scores_"}

    def failing_key_tests(day_role: str) -> set[str]:
        copy = tmp_path / f"{day_role}.duckdb"
        copy.write_bytes(warehouse.read_bytes())
        with duckdb.connect(str(copy)) as con:
            con.execute(
                "insert into main.int_candidate_features select f.* from main.int_candidate_features as f "
                f"inner join main.int_scoring_days as d using (scored_for) where d.{day_role} limit 1"
            )
        # int_scoring_days too: the key test of the days before tonight reads it (cautious indirect selection)
        run = run_dbt(["test", "--select", "int_candidate_features", "recommender_scores", "int_scoring_days"],
                      warehouse=copy, raise_on_failure=False)
        assert {n.status for n in run.nodes} <= {"pass", "fail"}
        return {model for model, prefix in key_tests.items()
                for n in run.nodes if n.unique_id.startswith(prefix) and n.status == "fail"}

    assert failing_key_tests("is_nightly") == {"recommender_scores"}
    assert failing_key_tests("is_evaluation") == {"int_candidate_features"}


def test_source_freshness_passes_right_after_ingest(built: tuple[Path, Path, object]) -> None:
    warehouse, _, _ = built
    run = run_dbt(["source", "freshness"], warehouse=warehouse)
    assert run.success
    assert {n.status for n in run.nodes} == {"pass"}


def test_demo_builds_its_world_and_refuses_a_foreign_warehouse(tmp_path: Path) -> None:
    lines: list[str] = []
    warehouse = tmp_path / "demo.duckdb"
    tables = run_demo(
        users=150, days=30, sales_per_day=6, seed=3, photos=None, start=date(2026, 1, 1),
        workdir=tmp_path, warehouse=warehouse, scenes=None, echo=lines.append,
    )
    names = {f"{t.schema}.{t.name}": t.rows for t in tables}
    assert names["raw.visits"] == names["main.stg_visits"] > 0
    text = "\n".join(lines)
    assert str(warehouse) in text and "placeholder" in text and "home_page_rankings" in text and "Ranked by" in text

    # Rerunning rebuilds the same world: same counts.
    again = run_demo(
        users=150, days=30, sales_per_day=6, seed=3, photos=None, start=date(2026, 1, 1),
        workdir=tmp_path, warehouse=warehouse, scenes=None, echo=lambda _: None,
    )
    assert {f"{t.schema}.{t.name}": t.rows for t in again} == names

    # A warehouse holding someone's own data is never wiped by the demo.
    other = tmp_path / "mine"
    simulate_world(other, users=20, days=5, sales_per_day=2, seed=1)
    ingest_folder(other, warehouse=warehouse)
    with pytest.raises(DemoError, match="holds data ingested from"):
        run_demo(
            users=150, days=30, sales_per_day=6, seed=3, photos=None, start=date(2026, 1, 1),
            workdir=tmp_path, warehouse=warehouse, scenes=None, echo=lambda _: None,
        )
    assert warehouse.exists()
