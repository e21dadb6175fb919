"""A customer's first nights: with less history than the meta model needs, the night still publishes home pages,
ranked by the best single recommender of the evaluation (or popularity when nothing can be evaluated), and says so
in model_version, the summary, last_run.json and the report. The meta model takes over by itself once the history
holds purchases on enough training days (var meta_min_training_days). A night with no open sale fails with the
date in its error and publishes nothing.

Real nights (Prefect flow, dbt build, image labelling, publication) on small simulated worlds, run in this process.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from nightly_world import TEST_PREFECT_HOME

from vitrine.nightly.run import NightlyError, run_nightly
from vitrine.nightly.settings import configure_prefect
from vitrine.publish import current_night, last_run
from vitrine.simulate import WorldSummary, simulate_world

START = date(2026, 1, 1)


@dataclass(frozen=True)
class Night:
    warehouse: Path
    serving: Path
    run_date: date
    summary: dict[str, Any]
    # read right after this night (a later night on the same warehouse rewrites them)
    last_run: dict[str, Any]
    report: str
    versions: set[str]  # the published home pages' model versions
    single_ndcg: dict[str, float]  # each single recommender's NDCG@10, as int_night_ranker weighs it
    evaluated: set[str]  # the recommenders of model_evaluation

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def served(self, sql: str) -> list[tuple[Any, ...]]:
        """A query on the published serving copy, as a BI tool reads it."""
        with duckdb.connect(str(self.serving / "current" / "serving.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()


def _world(root: Path, *, users: int, days: int, seed: int) -> WorldSummary:
    return simulate_world(root / "world", users=users, days=days, sales_per_day=5, seed=seed, start=START)


def _empty(table: Path) -> None:
    """Keep the contract file's header, drop its rows."""
    with table.open(newline="") as f:
        header = next(csv.reader(f))
    with table.open("w", newline="") as f:
        csv.writer(f).writerow(header)


def _night(root: Path, run_date: date, *, landing: Path | None = None) -> Night:
    os.environ.setdefault("PREFECT_HOME", str(TEST_PREFECT_HOME))
    warehouse, serving = root / "wh" / "vitrine.duckdb", root / "serving"
    configure_prefect(warehouse)
    summary = run_nightly(run_date=run_date, landing=landing, warehouse=warehouse, serving=serving)
    report = (serving / "current" / "report" / "index.html").read_text()
    with duckdb.connect(str(serving / "current" / "serving.duckdb"), read_only=True) as con:
        versions = {v for (v,) in con.execute("select distinct model_version from home_page_rankings").fetchall()}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        single_ndcg = dict(con.execute("""
            select recommender, sum(ndcg_at_10 * users) / sum(users)
            from model_evaluation
            where target = 'purchases' and sales_segment = 'all' and recommender not like 'meta%'
              and evaluated_on > (select min(visited_on) from stg_visits)
            group by recommender
        """).fetchall())
        evaluated = {r for (r,) in con.execute("select distinct recommender from model_evaluation").fetchall()}
    return Night(warehouse, serving, run_date, summary, last_run(serving) or {}, report, versions, single_ndcg,
                 evaluated)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("short-history")


@pytest.fixture(scope="module")
def one_day(root: Path) -> Night:
    """A warehouse loaded with one day of history, and its first night."""
    world = _world(root / "one-day", users=120, days=1, seed=5)
    return _night(root / "one-day", world.first_scoring_date, landing=world.out)


@pytest.fixture(scope="module")
def forty_days(root: Path) -> tuple[WorldSummary, Path]:
    return _world(root / "forty-days", users=200, days=40, seed=11), root / "forty-days"


@pytest.fixture(scope="module")
def growing(forty_days: tuple[WorldSummary, Path]) -> tuple[Night, Night]:
    """One warehouse, two nights: after 7 days of the world, then after all 40 (every event before the night)."""
    world, folder = forty_days
    week = _night(folder, START + timedelta(days=7), landing=world.out)
    full = _night(folder, world.first_scoring_date)
    return week, full


def _ranker(night: Night) -> dict[str, Any]:
    ranker = night.summary["ranker"]
    assert ranker == night.last_run["ranker"], "last_run.json says what the summary says"
    assert ranker["model_version"] in night.report, "the report names the ranker"
    return ranker


def test_one_day_of_history_publishes_pages_ranked_by_popularity(one_day: Night) -> None:
    ranker = _ranker(one_day)
    assert ranker["ranker"] == "popularity"
    assert ranker["model_version"] == f"single_popularity_{one_day.run_date:%Y%m%d}"
    assert "the history has 0" in ranker["reason"] and "ranked by popularity" in ranker["reason"]
    assert one_day.versions == {ranker["model_version"]}
    customers, rows = one_day.served("select count(distinct user_id), count(*) from home_page_rankings")[0]
    assert customers > 0 and rows > customers
    # each page is in the order of the sales' recent visits (the popularity ranker's score)
    disorder = one_day.query("""
        select count(*) from (
            select user_id, rank, score,
                   lag(score) over (partition by user_id order by rank) as previous
            from home_page_rankings
        ) where previous < score
    """)[0][0]
    assert disorder == 0
    assert one_day.query(f"select count(*) from meta_models where trained_for = '{one_day.run_date}'")[0][0] == 0


def test_a_night_with_no_open_sale_fails_naming_the_date_and_keeps_the_last_night(one_day: Night) -> None:
    empty_night = one_day.run_date + timedelta(days=200)
    with pytest.raises(NightlyError, match=f"no sale is open on {empty_night}"):
        _night(one_day.warehouse.parent.parent, empty_night)
    served = current_night(one_day.serving)
    assert served is not None and served.run_date == one_day.run_date
    outcome = last_run(one_day.serving)
    assert outcome["status"] == "failed" and str(empty_night) in outcome["reason"]


def test_seven_days_of_history_rank_by_the_best_single_recommender(growing: tuple[Night, Night]) -> None:
    week, _ = growing
    ranker = _ranker(week)
    assert ranker["ranker"] != "meta"
    assert ranker["model_version"] == f"single_{ranker['ranker']}_{week.run_date:%Y%m%d}"
    assert week.versions == {ranker["model_version"]}
    # the chosen one has the best NDCG@10 on the evaluation days' purchases that had history before them
    ndcg = week.single_ndcg
    assert ndcg, "seven days of history leave evaluation days with purchases to evaluate on"
    assert ndcg[ranker["ranker"]] == pytest.approx(max(ndcg.values()))
    assert "meta" not in week.evaluated


def test_the_meta_model_takes_over_once_the_history_is_long_enough(growing: tuple[Night, Night]) -> None:
    _, full = growing
    ranker = _ranker(full)
    assert ranker["ranker"] == "meta"
    tonight = full.query(f"select model_version from meta_models where trained_for = '{full.run_date}' "
                         "and variant = 'full'")
    assert [ranker["model_version"]] == [v for (v,) in tonight]
    assert full.versions == {ranker["model_version"]}
    ready = full.query("select purchase_days, required_days, is_ready from int_meta_readiness")[0]
    assert ready[2] and ready[0] >= ready[1]
    assert {"meta", "meta_no_image"} <= full.evaluated


def test_no_purchases_at_all(root: Path) -> None:
    folder = root / "no-purchases"
    world = _world(folder, users=120, days=7, seed=5)
    _empty(world.out / "purchases.csv")
    night = _night(folder, world.first_scoring_date, landing=world.out)
    ranker = _ranker(night)
    assert ranker["ranker"] == "popularity"
    assert "the history has 0" in ranker["reason"] and "no evaluation day" in ranker["reason"]
    assert night.served("select count(*) from home_page_rankings")[0][0] > 0
    assert night.query("select count(*) from stg_purchases")[0][0] == 0


def test_no_images_at_all(root: Path, forty_days: tuple[WorldSummary, Path]) -> None:
    """The forty days again without a single photo: the meta model still trains (its image features are all 0)."""
    world, _ = forty_days
    folder = root / "no-images"
    landing = folder / "landing"
    shutil.copytree(world.out, landing, ignore=shutil.ignore_patterns("images"))
    _empty(landing / "sale_images.csv")
    night = _night(folder, world.first_scoring_date, landing=landing)
    assert night.summary["status"] == "published"
    assert night.query("select count(*) from image_labels")[0][0] == 0
    assert night.served("select count(*) from home_page_rankings")[0][0] > 0
    assert _ranker(night)["ranker"] == "meta"
