"""Var cf_similarity changes the CF similarity and, through it, tonight's cf_score.

The session's built world (conftest.scored_world, cosine, the default) is copied, and int_scoring_days and the models
from int_cf_similarity to recommender_scores are rebuilt on the copy with `cf_similarity: jaccard`: a plain build,
no --full-refresh, since the var is part of every day's inputs_key and the incremental int_cf_similarity then
recomputes its days. The formulas themselves are checked by the hand-computed unit tests of int_cf_similarity
(_intermediate__unit_tests.yml), run by the end-to-end build.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from vitrine.dbt_runner import DbtError, run_dbt

JACCARD = "{cf_similarity: jaccard}"


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def cosine_and_jaccard(scored_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path,
                                                                                                          Path]:
    warehouse, _ = scored_world
    copy = tmp_path_factory.mktemp("cf_jaccard") / "vitrine.duckdb"
    shutil.copyfile(warehouse, copy)
    run_dbt(["build", "--select", "int_scoring_days", "int_cf_similarity+,+recommender_scores",
             "--exclude", "test_type:unit", "--vars", JACCARD], warehouse=copy)
    return warehouse, copy


def test_jaccard_recomputes_every_day_with_the_same_co_visitors_and_lower_similarities(
    cosine_and_jaccard: tuple[Path, Path],
) -> None:
    cosine, jaccard = cosine_and_jaccard
    # every day was recomputed under its new key (the var is part of inputs_key)
    keys = ("select distinct s.scored_for, s.inputs_key = d.inputs_key from main.int_cf_similarity as s "
            "inner join main.int_scoring_days as d using (scored_for) order by all")
    assert {same for _, same in _query(cosine, keys)} == {True}
    assert {same for _, same in _query(jaccard, keys)} == {True}
    assert set(_query(cosine, "select distinct inputs_key from main.int_cf_similarity")).isdisjoint(
        _query(jaccard, "select distinct inputs_key from main.int_cf_similarity"))

    with duckdb.connect() as con:
        con.execute(f"attach '{cosine}' as cosine (read_only); attach '{jaccard}' as jaccard (read_only)")
        # the same sales have neighbours on the same days: cf_min_covisits does not depend on the formula
        groups = "select distinct scored_for, sale_id from {}.main.int_cf_similarity"
        cosine_groups, jaccard_groups, both = con.execute(
            f"select (select count(*) from ({groups.format('cosine')})), "
            f"(select count(*) from ({groups.format('jaccard')})), "
            f"(select count(*) from ({groups.format('cosine')} intersect {groups.format('jaccard')}))"
        ).fetchone()
        common, co_visitors_differ, higher, lower = con.execute("""
            select
                count(*),
                count(*) filter (where c.co_visitors <> j.co_visitors),
                count(*) filter (where j.similarity > c.similarity + 1e-12),
                count(*) filter (where j.similarity < c.similarity)
            from cosine.main.int_cf_similarity as c
            inner join jaccard.main.int_cf_similarity as j
                using (scored_for, sale_id, neighbour_sale_id)
        """).fetchone()
    assert cosine_groups > 0 and cosine_groups == jaccard_groups == both
    # co_visitors are counts, the same whatever the formula; jaccard <= cosine for every pair, strictly below
    # unless the two sales have the same visitors
    assert common > 100 and co_visitors_differ == 0 and higher == 0
    assert lower > common / 2


def test_jaccard_changes_tonights_cf_scores(cosine_and_jaccard: tuple[Path, Path]) -> None:
    cosine, jaccard = cosine_and_jaccard
    scores = "select user_id, sale_id, cf_score from main.recommender_scores"
    before = {(u, s): score for u, s, score in _query(cosine, scores)}
    after = {(u, s): score for u, s, score in _query(jaccard, scores)}
    # one row per (customer, sale), the same customers; the candidates may move with the CF ranks
    assert len(after) == len(_query(jaccard, scores)) and len(before) > 1000
    assert {u for u, _ in after} == {u for u, _ in before}
    common = before.keys() & after.keys()
    assert len(common) > 0.8 * len(before)
    with_cf = [k for k in common if (before[k] or 0) > 0]
    assert len(with_cf) > 100
    changed = [k for k in with_cf if abs((after[k] or 0) - before[k]) > 1e-9]
    assert len(changed) > 0.9 * len(with_cf)


def test_an_unknown_similarity_fails_naming_the_choices(cosine_and_jaccard: tuple[Path, Path]) -> None:
    _, jaccard = cosine_and_jaccard
    with pytest.raises(DbtError, match="use one of cosine, jaccard, shrunk_cosine"):
        run_dbt(["compile", "--select", "int_cf_similarity", "--vars", "{cf_similarity: pearson}"], warehouse=jaccard)
