"""The SQL recommenders on a small simulated world: leak-free features, the sampled training set, the evaluation.

The hand-computed cases (CF similarity and score, sparse dot product, sampling exclusions, a metric) are dbt unit
tests in dbt_project/models/*/_*unit_tests.yml and run in the end-to-end `dbt build`.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from vitrine.dbt_runner import run_dbt
from vitrine.evaluation import evaluate
from vitrine.ingest import ingest_folder


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def world(scored_world: tuple[Path, Path]) -> tuple[Path, Path]:
    """The session's 400-customer world (tests/conftest.py), built once."""
    return scored_world


def test_scores_cover_active_users_and_open_sales_only(world: tuple[Path, Path]) -> None:
    warehouse, _ = world
    (run_date,) = _query(warehouse, "select max(visited_on) + 1 from main.stg_visits")[0]
    outside = _query(
        warehouse,
        """
        select count(*) from main.recommender_scores r join main.stg_sales s using (sale_id)
        where not (s.opens_on <= r.scored_for and r.scored_for <= s.closes_on) or r.scored_for <> ?
        """,
        [run_date],
    )[0][0]
    assert outside == 0
    already_bought = _query(
        warehouse,
        "select count(*) from main.recommender_scores r join main.stg_purchases p "
        "on p.user_id = r.user_id and p.sale_id = r.sale_id and p.purchased_on < r.scored_for",
    )[0][0]
    assert already_bought == 0
    scored_users, active_users = _query(
        warehouse,
        """
        select (select count(distinct user_id) from main.recommender_scores),
               (select count(distinct user_id) from main.stg_visits where visited_on >= ? - 30)
        """,
        [run_date],
    )[0]
    assert scored_users == active_users > 0


def test_training_set_has_five_negatives_per_purchase_drawn_reproducibly(world: tuple[Path, Path]) -> None:
    warehouse, _ = world
    rows = _query(
        warehouse,
        """
        select example_on, user_id, sum(label) as positives, sum(1 - label) as negatives,
               (select count(*) from main.int_candidate_features f
                where f.scored_for = e.example_on and f.user_id = e.user_id) as open_not_bought_before
        from main.training_examples e group by example_on, user_id
        """,
    )
    assert len(rows) > 50
    for _, _, positives, negatives, available in rows:
        assert negatives == min(5 * positives, available - positives)
    bought_negatives = _query(
        warehouse,
        "select count(*) from main.training_examples e join main.stg_purchases p on p.user_id = e.user_id "
        "and p.sale_id = e.sale_id and p.purchased_on = e.example_on where e.label = 0",
    )[0][0]
    assert bought_negatives == 0

    before = _query(warehouse, "select example_on, user_id, sale_id, label from main.training_examples order by all")
    run_dbt(["build", "--select", "int_training_examples", "--exclude", "test_type:unit"], warehouse=warehouse)
    after = _query(warehouse, "select example_on, user_id, sale_id, label from main.training_examples order by all")
    assert before == after


def test_features_of_an_example_ignore_events_on_or_after_its_day(
    world: tuple[Path, Path], tmp_path: Path
) -> None:
    """Later events appended to the warehouse change tonight's features but not any earlier example's."""
    warehouse, _ = world
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    # A positive example whose sale is still open the next day, on a day well inside the training window.
    example_on, user_id, _ = _query(
        copy,
        """
        select e.example_on, e.user_id, e.sale_id from main.training_examples e
        join main.stg_sales s using (sale_id)
        where e.label = 1 and s.closes_on > e.example_on and not e.is_evaluation_day
        order by e.example_on desc, e.user_id limit 1
        """,
    )[0]
    open_sales = [r[0] for r in _query(
        copy, "select sale_id from main.stg_sales where opens_on <= ? and closes_on >= ? order by sale_id",
        [example_on, example_on],
    )]
    users = [r[0] for r in _query(copy, "select user_id from main.stg_users order by user_id limit 40")]
    # On the example's own day: the buyer and 40 others visit every open sale many times. If any feature of the
    # day's examples read these events, its cf, content, popularity or own-visit features would move.
    later = tmp_path / "later"
    later.mkdir()
    with (later / "visits.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["user_id", "sale_id", "visited_at"])
        for u in [user_id, *users]:
            for s in open_sales:
                for hour in (21, 22, 23):
                    writer.writerow([u, s, f"{example_on.isoformat()}T{hour}:{u % 60:02d}:{s % 60:02d}Z"])
    report = ingest_folder(later, warehouse=copy)
    assert report.to_dict()["tables"]["visits"]["rows_accepted"] > 0

    # every column: the features are the declared ones (macros/recommenders.sql), whatever they are
    examples = "select * from main.training_examples"
    before_day = _query(copy, examples + " where example_on <= ? order by all", [example_on])
    next_day = _query(copy, examples + " where example_on = ? order by all", [example_on + timedelta(days=1)])
    daily = "select sale_id, visits from main.int_daily_visits where user_id = ? and visited_on = ? order by all"
    buyer_day = _query(copy, daily, [user_id, example_on])
    assert buyer_day  # the buyer visited that day already: the late visits add to counts that exist
    run_dbt(["build", "--exclude", "test_type:unit", "tag:images"], warehouse=copy)
    # stg_visits appended the late batch, int_daily_visits recounted the days it touched: both equal a build from raw
    assert _query(copy, "select user_id, sale_id, visited_at, visited_on, loaded_in_batch from main.stg_visits "
                        "order by all") == _query(
        copy, "select user_id, sale_id, visited_at, cast(visited_at as date), max(_batch_id) from raw.visits "
              "group by all order by all")
    assert _query(copy, "select user_id, sale_id, visited_on, visits, loaded_in_batch from main.int_daily_visits "
                        "order by all") == _query(
        copy, "select user_id, sale_id, cast(visited_at as date), count(*), max(_batch_id) from raw.visits "
              "group by all order by all")
    recounted = dict(_query(copy, daily, [user_id, example_on]))
    assert all(recounted[sale] == visits + 3 for sale, visits in buyer_day)  # three late visits to each open sale
    assert _query(copy, examples + " where example_on <= ? order by all", [example_on]) == before_day
    # ...while the same events do change the features of the next day's examples: the test can fail.
    assert _query(copy, examples + " where example_on = ? order by all", [example_on + timedelta(days=1)]) != next_day


def test_cf_and_content_based_beat_popularity(world: tuple[Path, Path]) -> None:
    warehouse, _ = world
    (run_date,) = _query(warehouse, "select max(visited_on) + 1 from main.stg_visits")[0]
    rows = evaluate(run_date - timedelta(days=14), run_date - timedelta(days=1), warehouse=warehouse)
    p10 = {r.recommender: r.p_at_10 for r in rows if r.target == "purchases" and r.sales_segment == "all"}
    assert set(p10) >= {"cf", "cf_recent", "cb_text", "cb_destination", "cb_price", "content_based", "popularity"}
    assert p10["cf"] > p10["popularity"]
    assert max(p10["cb_text"], p10["content_based"]) > p10["popularity"]
    # The evaluation run builds into its own schema: tonight's public marts are untouched.
    assert _query(warehouse, "select count(distinct scored_for) from main.recommender_scores")[0][0] == 1
    assert _query(warehouse, "select max(evaluated_on) from evaluation.model_evaluation")[0][0] == (
        run_date - timedelta(days=1)
    )


# The incremental as-of models (dbt tag as_of_day, macros/as_of_days.sql), read from their config lines so that a
# model that becomes one is checked here too.
AS_OF_MODELS = tuple(sorted(
    path.stem for path in (Path(__file__).resolve().parents[1] / "dbt_project" / "models").rglob("*.sql")
    if "tags=['as_of_day']" in path.read_text()
))


def _rows(warehouse: Path, table: str) -> list[tuple]:
    """A table's rows, sorted, doubles to 12 decimals (sums in parallel add in any order); without inputs_key (it
    says when the rows were computed, not what they are)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [
            f"round({name}, 12) as {name}" if kind == "DOUBLE" else name
            for name, kind in con.execute(
                "select column_name, data_type from duckdb_columns() where schema_name = 'main' and table_name = ? "
                "and column_name <> 'inputs_key' order by column_index", [table]).fetchall()
        ]
        return con.execute(f"select {', '.join(columns)} from main.{table} order by all").fetchall()


def test_a_night_after_the_night_before_computes_only_new_days_and_equals_a_full_build(
    world: tuple[Path, Path], tmp_path: Path
) -> None:
    """The as-of models keep the history days they hold: the next night computes tonight, yesterday and the days
    whose role changed, and gives the same tables as the session's full build of that night."""
    warehouse, _ = world
    assert "int_cf_similarity" in AS_OF_MODELS  # the search of the config lines found them
    (run_date,) = _query(warehouse, "select run_date from main.int_scoring_days where is_nightly")[0]
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    selection = ["--exclude", "test_type:unit", "tag:images"]
    run_dbt(["build", *selection, "--full-refresh", "--vars", f"{{run_date: {run_date - timedelta(days=1)}}}"],
            warehouse=copy)
    # A sentinel row on a history day that stays a training and evaluation day (3 days before tonight): if the
    # night recomputed that day, the row would be deleted. An unknown customer: no other model reads it.
    kept_day = run_date - timedelta(days=3)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "insert into main.int_user_window_sales select scored_for, -1, -1, 1, scored_for - 1, inputs_key "
            "from main.int_scoring_days where scored_for = ?", [kept_day])
    run_dbt(["build", *selection, "--vars", f"{{run_date: {run_date}}}"], warehouse=copy)

    assert _query(copy, "select count(*) from main.int_user_window_sales where user_id = -1") == [(1,)]
    for table in (*AS_OF_MODELS, "int_candidate_features", "training_examples", "home_page_rankings"):
        rows = _rows(copy, table)
        if table == "int_user_window_sales":
            rows = [r for r in rows if r[1] != -1]
        assert rows == _rows(warehouse, table), table
