"""DuckDB builds the scoring models in customer buckets (macros/customer_buckets.sql): the tables are the ones one
run over every customer gives.

The session's built world (conftest.scored_world) has every scoring model in one bucket (its few hundred scored
rows are under scored_customers_per_bucket). A copy rebuilds the scoring folder with a bucket of 100 scored rows,
i.e. several runs of each model's query, and every table must match: the rounded scores, ranks and candidates
exactly, the unrounded sums (int_cf_scores, int_user_profiles) up to the order of their additions.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from vitrine.dbt_runner import run_dbt

SCORING = "path:models/intermediate/scoring"
PER_BUCKET = 100
EXACT = ["int_recommender_ranks", "int_candidates", "int_candidate_features"]
SUMS = {
    "int_cf_scores": (["scored_for", "user_id", "sale_id", "recommender"], "score"),
    "int_user_profiles": (["scored_for", "user_id", "family", "feature_id"], "value"),
}


@pytest.fixture(scope="module")
def bucketed(scored_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    warehouse, _ = scored_world
    root = tmp_path_factory.mktemp("customer_buckets")
    copy = root / "vitrine.duckdb"
    shutil.copyfile(warehouse, copy)
    logs = root / "logs"
    run_dbt(["build", "--select", SCORING, "--exclude", "test_type:unit", "--log-path", str(logs),
             "--vars", f"{{scored_customers_per_bucket: {PER_BUCKET}}}"], warehouse=copy)
    return warehouse, copy, (logs / "dbt.log").read_text()


def test_each_scoring_model_ran_once_per_bucket(bucketed: tuple[Path, Path, str]) -> None:
    whole, _, log = bucketed
    with duckdb.connect(str(whole), read_only=True) as con:
        scored = con.execute("select count(*) from main.int_scoring_users").fetchall()[0][0]
    buckets = -(-scored // PER_BUCKET)
    assert buckets >= 3
    runs = re.findall(r"set variable vitrine_customer_bucket = (\d+);", log)
    models = 5  # int_cf_scores, int_user_profiles, int_recommender_ranks, int_candidates, int_candidate_features
    assert sorted(int(b) for b in runs) == sorted(list(range(buckets)) * models)
    assert f"set variable vitrine_customer_buckets = {buckets};" in log


@pytest.mark.parametrize("table", EXACT)
def test_bucketed_tables_equal_the_single_run(bucketed: tuple[Path, Path, str], table: str) -> None:
    whole, copy, _ = bucketed
    with duckdb.connect() as con:
        con.execute(f"attach '{whole}' as whole (read_only); attach '{copy}' as bucketed (read_only)")
        rows, missing, extra = con.execute(f"""
            select
                (select count(*) from whole.main.{table}),
                (select count(*) from (select * from whole.main.{table} except all
                                       select * from bucketed.main.{table})),
                (select count(*) from (select * from bucketed.main.{table} except all
                                       select * from whole.main.{table}))
        """).fetchall()[0]
    assert rows > 0
    assert (missing, extra) == (0, 0)


@pytest.mark.parametrize("table", sorted(SUMS))
def test_bucketed_sums_equal_the_single_run_up_to_addition_order(bucketed: tuple[Path, Path, str],
                                                                  table: str) -> None:
    whole, copy, _ = bucketed
    keys, value = SUMS[table]
    with duckdb.connect() as con:
        con.execute(f"attach '{whole}' as whole (read_only); attach '{copy}' as bucketed (read_only)")
        rows, matched, worst = con.execute(f"""
            select
                (select count(*) from whole.main.{table}),
                (select count(*) from bucketed.main.{table}),
                max(abs(w.{value} - b.{value}))
            from whole.main.{table} as w
            inner join bucketed.main.{table} as b using ({", ".join(keys)})
        """).fetchall()[0]
        joined = con.execute(f"""
            select count(*) from whole.main.{table} as w
            inner join bucketed.main.{table} as b using ({", ".join(keys)})
        """).fetchall()[0][0]
    assert rows > 0 and rows == matched == joined
    assert worst < 1e-12
