"""The two scoring engines compute the same scores.

`scoring_engine: matrix` (the default) scores with sparse matrix products in the dbt Python model
int_candidate_features (vitrine/recommenders/scoring.py); `scoring_engine: sql` with the joins of
models/intermediate/sql_scoring, the portable reference. Here the SQL engine rebuilds int_candidate_features on a copy
of the session's world (its hand-computed dbt unit tests run in the same build), and every pair and column must
equal the matrix engine's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from vitrine.dbt_runner import run_dbt

KEY = ["scored_for", "user_id", "sale_id"]


def _features(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.sql("select * from main.int_candidate_features").df()
    return frame.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def both_engines(scored_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame,
                                                                                                     pd.DataFrame]:
    warehouse, _ = scored_world
    copy = tmp_path_factory.mktemp("sql_engine") / "vitrine.duckdb"
    shutil.copyfile(warehouse, copy)
    run = run_dbt(["build", "--select", "path:models/intermediate/sql_scoring", "--vars", "{scoring_engine: sql}"],
                  warehouse=copy)
    built = {node.unique_id for node in run.nodes}
    assert "model.vitrine.int_candidate_features" in built, sorted(built)
    # the SQL engine's hand-computed unit tests ran (and passed: run_dbt raises on a failure)
    assert {"unit_test.vitrine.int_cf_scores.cf_score_sums_the_similarities_of_the_visited_sales",
            "unit_test.vitrine.int_content_scores.content_score_is_the_sparse_dot_product_per_family"} <= built
    return _features(warehouse), _features(copy)


def test_both_engines_score_the_same_pairs(both_engines: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    matrix, sql = both_engines
    assert len(matrix) > 1000
    assert list(matrix.columns) == list(sql.columns)
    pd.testing.assert_frame_equal(matrix[[*KEY, "is_candidate"]], sql[[*KEY, "is_candidate"]], check_dtype=False)


def test_both_engines_give_the_same_scores_and_signals(both_engines: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    matrix, sql = both_engines
    assert (matrix["cf_score"] > 0).mean() > 0.1 and (matrix["cb_text_score"] > 0).mean() > 0.1
    for column in matrix.columns.difference([*KEY, "is_candidate"]):
        left, right = matrix[column].to_numpy(dtype=float), sql[column].to_numpy(dtype=float)
        np.testing.assert_allclose(left, right, rtol=0, atol=1e-9, equal_nan=True, err_msg=column)
