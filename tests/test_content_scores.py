"""The two forms of the content formula (macros/content_scores.sql) agree: each candidate pair's cb_<family>_score in
int_candidate_features (content_score_columns, the pairs only) is the score int_content_scores gives the pair
(content_scores, every open sale; on DuckDB the dense families as list products), on the session's built world."""

from __future__ import annotations

from pathlib import Path

import duckdb

FAMILIES = ["text", "destination", "price", "image"]


def test_pair_scores_equal_the_every_sale_scores(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for family in FAMILIES:
            pairs, scored, worst = con.execute(f"""
                select
                    count(*),
                    count(*) filter (where f.cb_{family}_score > 0),
                    max(abs(f.cb_{family}_score - round(coalesce(s.score, 0), 10)))
                from main.int_candidate_features as f
                left join main.int_content_scores as s
                    on s.scored_for = f.scored_for and s.user_id = f.user_id and s.sale_id = f.sale_id
                    and s.recommender = 'cb_{family}'
            """).fetchall()[0]
            assert pairs > 1000 and scored > pairs / 10, family
            # both round to 10 decimals: sums added in another order may land one step apart
            assert worst <= 1.0000001e-10, family
