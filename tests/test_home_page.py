"""Themes, the meta model and the home page in a real dbt build of the session's small world (tests/conftest.py).

The scoring rules (SQL) are checked against the model's own terms, the explanations against the contributions
recomputed here, and the night-to-night rules (a rerun changes nothing, theme ids carry over, a rollback serves
the older model) on a copy of the warehouse.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from vitrine.config import DBT_PROJECT_DIR
from vitrine.dbt_runner import run_dbt
from vitrine.themes.naming import tag_words

BUILD = ["build", "--exclude", "test_type:unit"]


def _features_sql() -> str:
    """int_candidate_features with the meta model's features (var meta_features of dbt_project.yml), as a subquery."""
    expressions = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["meta_features"]
    columns = ", ".join(f"cast({expression} as double) as {name}" for name, expression in expressions.items())
    return f"(select scored_for, user_id, sale_id, is_candidate, {columns} from main.int_candidate_features)"


def _df(warehouse: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).df()


def _night(warehouse: Path):
    return _df(warehouse, "select run_date from main.int_scoring_days where is_nightly")["run_date"].dt.date.iloc[0]


def _served_terms(warehouse: Path, slot: str = "served") -> pd.DataFrame:
    return _df(warehouse, "select * from main.int_meta_served where slot = ? order by term_order", [slot])


def _logit(features: pd.DataFrame, terms: pd.DataFrame) -> np.ndarray:
    by_term = terms.set_index("term")
    logit = np.full(len(features), by_term.loc["(intercept)", "coefficient"])
    for term, row in by_term.drop(index="(intercept)").iterrows():
        logit += row["coefficient"] * (features[term].to_numpy() - row["center"]) / row["scale"]
    return logit


def test_every_active_customer_gets_a_valid_page(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    night = _night(warehouse)
    pages = _df(warehouse, "select * from main.home_page_rankings")
    assert len(pages) > 0 and set(pages["scored_for"].dt.date) == {night}
    active = _df(warehouse, "select user_id from main.int_scoring_users where scored_for = ? and is_active_tonight",
                 [night])
    assert set(pages["user_id"]) == set(active["user_id"])
    for _, page in pages.groupby("user_id"):
        assert list(page.sort_values("rank")["rank"]) == list(range(1, len(page) + 1))
        assert len(page) <= 10 and page["sale_id"].is_unique
        ordered = page.sort_values("rank")
        # by score, ties to the smaller sale id
        assert list(ordered["sale_id"]) == list(ordered.sort_values(["score", "sale_id"],
                                                                    ascending=[False, True])["sale_id"])
    outside = _df(warehouse, """
        select count(*) as n from main.home_page_rankings h join main.stg_sales s using (sale_id)
        where not (s.opens_on <= h.scored_for and h.scored_for <= s.closes_on)
        """)["n"].iloc[0]
    bought = _df(warehouse, """
        select count(*) as n from main.home_page_rankings h join main.stg_purchases p
        on p.user_id = h.user_id and p.sale_id = h.sale_id and p.purchased_on < h.scored_for
        """)["n"].iloc[0]
    assert outside == 0 and bought == 0
    served = _df(warehouse, "select model_version from main.meta_models where variant = 'full' and trained_for = ?",
                 [night])
    assert set(pages["model_version"]) == set(served["model_version"])


def test_sql_scores_are_the_trained_models(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    scored = _df(warehouse, f"""
        select f.*, s.meta_score, s.meta_no_image_score from {_features_sql()} f
        join main.int_meta_scores s using (scored_for, user_id, sale_id)
        """)
    # int_meta_scores holds the evaluation days, all their scored pairs
    evaluation = _df(warehouse, """
        select d.scored_for, count(f.sale_id) as n from main.int_scoring_days d
        left join main.int_candidate_features f using (scored_for) where d.is_evaluation group by all
        """)
    assert set(scored["scored_for"]) == set(evaluation["scored_for"])
    assert len(scored) == evaluation["n"].sum() > 0
    for slot, column in (("served", "meta_score"), ("no_image", "meta_no_image_score")):
        expected = 1 / (1 + np.exp(-_logit(scored, _served_terms(warehouse, slot))))
        np.testing.assert_allclose(scored[column].to_numpy(), expected, atol=1e-9)
    # tonight's candidates are scored where they are ranked: the home page's scores are the served model's
    pages = _df(warehouse, f"""
        select f.*, h.score from main.home_page_rankings h join {_features_sql()} f using (scored_for, user_id, sale_id)
        """)
    assert len(pages) > 0
    expected = 1 / (1 + np.exp(-_logit(pages, _served_terms(warehouse))))
    np.testing.assert_allclose(pages["score"].to_numpy(), expected, atol=1e-9)
    # the image features matter to one model only
    no_image_terms = set(_served_terms(warehouse, "no_image")["term"])
    assert "cb_image_score" in set(_served_terms(warehouse)["term"]) and "cb_image_score" not in no_image_terms


def test_the_meta_model_never_sees_its_evaluation_days(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    models = _df(warehouse, "select * from main.meta_models order by variant")
    assert list(models["variant"]) == ["full", "no_image"]
    first_evaluation_day = _df(warehouse, "select min(scored_for) as d from main.int_scoring_days where is_evaluation")
    assert (models["train_to"] < first_evaluation_day["d"].iloc[0]).all()
    assert (models["validation_to"] == models["train_to"]).all()
    assert (models["validation_from"] > models["train_from"]).all()
    assert (models["validation_auc"] > 0.6).all()
    coefficients = _df(warehouse, "select count(*) as n from main.meta_model_coefficients")["n"].iloc[0]
    features = sum(len(f.split(",")) + 1 for f in models["features"])
    assert coefficients == features


def test_explanations_name_the_largest_contribution(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    pages = _df(warehouse, f"""
        select h.*, f.* exclude (scored_for, user_id, sale_id, is_candidate) from main.home_page_rankings h
        join {_features_sql()} f using (scored_for, user_id, sale_id)
        """)
    terms = _served_terms(warehouse).set_index("term").drop(index="(intercept)")
    contributions = pd.DataFrame({
        term: row["coefficient"] / row["scale"] * (pages[term] - row["center"]) for term, row in terms.iterrows()
    })
    phrases = _df(warehouse, "select * from main.explanation_phrases")
    main_theme = _df(warehouse, """
        select s.sale_id, c.name from main.sale_themes s join main.theme_catalog c using (theme_id)
        qualify row_number() over (partition by s.sale_id order by s.score_pct desc, s.theme_id) = 1
        """).set_index("sale_id")["name"]
    fallback = phrases.loc[phrases["feature"] == "(none)", "phrase"].iloc[0]
    for i, row in pages.iterrows():
        c = contributions.loc[i]
        best = sorted(c.index, key=lambda term: (-c[term], term))[0]
        direction = "high" if pages.loc[i, best] > terms.loc[best, "center"] else "low"
        phrase = phrases[(phrases["feature"] == best) & (phrases["direction"] == direction)]["phrase"]
        if c[best] > 0 and len(phrase):
            assert row["explained_by"] == best
            expected = phrase.iloc[0].replace("{theme}", main_theme.get(row["sale_id"], "the photos"))
            assert row["explanation"] == expected
        else:
            assert (row["explained_by"], row["explanation"]) == ("(none)", fallback)
    assert pages["explained_by"].nunique() >= 3  # the page is not explained by one feature only


def test_themes_in_the_warehouse(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    catalog = _df(warehouse, "select * from main.theme_catalog")
    assert 5 <= len(catalog) <= 30 and catalog["name"].is_unique
    for _, theme in catalog.iterrows():
        top = [t.strip() for t in theme["top_tags"].split(",")]
        # named by its top tags in words, e.g. "seashore, sandbar, coral reef"
        assert set(theme["name"].split(" (")[0].split(", ")) == {tag_words(t) for t in top}, (theme["name"], top)
    for table, key in (("image_themes", "image_id"), ("sale_themes", "sale_id")):
        sums = _df(warehouse, f"select {key}, sum(score_pct) as total from main.{table} group by {key}")
        np.testing.assert_allclose(sums["total"], 100.0, atol=1e-3)
    labelled = _df(warehouse, "select count(distinct image_id) as n from main.image_labels where is_current")
    themed = _df(warehouse, "select count(distinct image_id) as n from main.image_themes")
    assert themed["n"].iloc[0] >= 0.95 * labelled["n"].iloc[0]
    # the image family is rows of the content profiles, scored like the other families
    image_rows = _df(warehouse, "select count(*) as n from main.int_sale_profiles where family = 'image'")
    assert image_rows["n"].iloc[0] > 0
    assert _df(warehouse, "select max(cb_image_score) as m from main.recommender_scores")["m"].iloc[0] > 0


def test_evaluation_has_the_meta_model_and_the_cold_start(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    rows = _df(warehouse, "select distinct recommender, sales_segment from main.model_evaluation")
    assert {"meta", "meta_no_image", "cb_image", "cf", "cf_recent", "popularity"} <= set(rows["recommender"])
    assert set(rows["sales_segment"]) == {"all", "new_sales"}


def test_evaluation_ranks_are_the_places_in_a_full_sort(scored_world: tuple[Path, Path]) -> None:
    """int_evaluation_ranks compares each relevant sale with the others instead of sorting: recompute by sorting."""
    warehouse, _ = scored_world
    cold_start_days = 1
    opens = _df(warehouse, f"""
        select f.scored_for, f.user_id, f.sale_id, f.cf_score as cf, f.cf_recent_score as cf_recent,
               m.meta_score as meta,
               f.days_since_open <= {cold_start_days} as is_new_sale,
               cast('0x' || substr(md5(concat_ws('|', cast(f.sale_id as varchar), cast(f.scored_for as varchar),
                   '42')), 1, 12) as bigint) / 281474976710656.0 as tie_break,  -- stable_uniform
               coalesce(p.amount_eur, 0) as amount_eur, p.sale_id is not null as is_bought
        from main.int_candidate_features f
        join main.int_meta_scores m using (scored_for, user_id, sale_id)
        join main.int_scoring_days d using (scored_for)
        join main.int_scoring_users u using (scored_for, user_id)
        left join (select purchased_on as scored_for, user_id, sale_id, sum(amount_eur) as amount_eur
                   from main.stg_purchases group by all) p using (scored_for, user_id, sale_id)
        where d.is_evaluation and u.is_buyer
        """)
    ranks = _df(warehouse, """
        select * from main.int_evaluation_ranks
        where target = 'purchases' and recommender in ('cf', 'cf_recent', 'meta')
        """)
    expected = []
    for segment in ("all", "new_sales"):
        pool = opens if segment == "all" else opens[opens["is_new_sale"]]
        for recommender in ("cf", "cf_recent", "meta"):
            ordered = pool.sort_values(["scored_for", "user_id", recommender, "tie_break", "sale_id"],
                                       ascending=[True, True, False, True, True])
            ordered = ordered.assign(score_rank=ordered.groupby(["scored_for", "user_id"]).cumcount() + 1)
            for (_, _), group in ordered.groupby(["scored_for", "user_id"]):
                negatives = group[~group["is_bought"]][recommender].to_numpy()
                for _, sale in group[group["is_bought"]].iterrows():
                    expected.append({
                        "scored_for": sale["scored_for"], "user_id": sale["user_id"], "sale_id": sale["sale_id"],
                        "recommender": recommender, "sales_segment": segment, "score_rank": sale["score_rank"],
                        "negatives": len(negatives),
                        "negatives_below": int((negatives < sale[recommender]).sum()),
                        "negatives_tied": int((negatives == sale[recommender]).sum()),
                        "amount_eur": sale["amount_eur"],
                    })
    expected_df = pd.DataFrame(expected)
    assert len(expected_df) > 0 and (expected_df["sales_segment"] == "new_sales").any()
    # the sort puts ties in hash order: the test would not see a wrong tie-break without ties
    assert opens.duplicated(["scored_for", "user_id", "cf"]).any()
    key = ["scored_for", "user_id", "sale_id", "recommender", "sales_segment"]
    got = ranks[[*expected_df.columns]].sort_values(key).reset_index(drop=True)
    want = expected_df.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_tag_attractiveness_is_visits_share_over_sales_share(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    marts = _df(warehouse, "select * from main.tag_attractiveness where destination_country = 'all'")
    assert set(marts["kind"]) == {"tag", "theme"}
    np.testing.assert_allclose(marts["attractiveness"], marts["visits_share"] / marts["sales_share"] - 1, atol=1e-4)
    # one cell recomputed from staging: the month's most visited hero tag, all countries
    cell = marts[marts["kind"] == "tag"].sort_values(["visits", "visits_share", "name"], ascending=False).iloc[0]
    month = cell["month"].date()
    end = (pd.Timestamp(month) + pd.offsets.MonthBegin(1)).date()
    tagged = set(_df(warehouse, """
        select i.sale_id from main.stg_sale_images i join main.image_labels l using (image_id)
        where i.is_hero and l.is_current and l.label = ?
        """, [cell["name"]])["sale_id"])
    open_sales = _df(warehouse, "select sale_id from main.stg_sales where opens_on < ? and closes_on >= ?",
                     [end, month])["sale_id"]
    visits = _df(warehouse, """
        select sale_id, count(*) as visits from main.stg_visits where visited_on >= ? and visited_on < ?
        group by sale_id
        """, [month, end]).set_index("sale_id")["visits"]
    visits = visits[visits.index.isin(set(open_sales))]
    assert cell["sales_share"] == pytest.approx(open_sales.isin(tagged).mean(), abs=1e-6)
    assert cell["visits_share"] == pytest.approx(visits[visits.index.isin(tagged)].sum() / visits.sum(), abs=1e-6)


def test_recommendation_examples_put_the_lists_side_by_side(scored_world: tuple[Path, Path]) -> None:
    warehouse, _ = scored_world
    examples = _df(warehouse, "select * from main.recommendation_examples")
    users = examples["user_id"].unique()
    assert 1 <= len(users) <= 20
    assert set(examples["list"]) == {"visited", "cf", "cb_image", "meta"}
    pages = _df(warehouse, "select user_id, rank, sale_id from main.home_page_rankings")
    meta = examples[examples["list"] == "meta"][["user_id", "rank", "sale_id"]]
    expected = pages[pages["user_id"].isin(users)]
    assert sorted(map(tuple, meta.to_numpy())) == sorted(map(tuple, expected.to_numpy()))
    visited = examples[examples["list"] == "visited"].merge(
        _df(warehouse, "select distinct user_id, sale_id from main.stg_visits"), on=["user_id", "sale_id"])
    assert len(visited) == (examples["list"] == "visited").sum()


@pytest.fixture(scope="module")
def two_nights(scored_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the warehouse: tonight rerun, then the next night built, its history kept."""
    warehouse, _ = scored_world
    copy = tmp_path_factory.mktemp("two_nights") / "vitrine.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    night = _night(copy)
    snapshot = "select * from main.{} order by all"
    first = {t: _df(copy, snapshot.format(t)) for t in ("theme_catalog", "home_page_rankings", "meta_models")}
    run_dbt([*BUILD, "--select", "int_theme_fits+", "int_meta_fits+"], warehouse=copy)
    rerun = {t: _df(copy, snapshot.format(t)) for t in first}
    next_night = night + timedelta(days=1)
    run_dbt([*BUILD, "--vars", json.dumps({"run_date": next_night.isoformat()})], warehouse=copy)
    return {"copy": copy, "night": night, "next": next_night, "first": first, "rerun": rerun}


def test_a_rerun_for_the_same_night_changes_nothing(two_nights: dict) -> None:
    for table, before in two_nights["first"].items():
        pd.testing.assert_frame_equal(two_nights["rerun"][table], before, obj=table)


def test_the_next_night_keeps_the_theme_ids_and_the_model_history(two_nights: dict) -> None:
    copy = two_nights["copy"]
    before = two_nights["first"]["theme_catalog"].set_index("theme_id")["name"]
    after = _df(copy, "select theme_id, name from main.theme_catalog").set_index("theme_id")["name"]
    kept = sum(1 for theme_id, name in before.items() if after.get(theme_id) == name)
    assert kept / len(before) >= 0.9
    fits = _df(copy, "select distinct fitted_for from main.int_theme_fits order by 1")["fitted_for"].dt.date
    assert list(fits) == [two_nights["night"], two_nights["next"]]
    models = _df(copy, "select trained_for, variant from main.meta_models order by all")
    assert len(models) == 4 and set(models["trained_for"].dt.date) == {two_nights["night"], two_nights["next"]}
    pages = _df(copy, "select distinct scored_for, model_version from main.home_page_rankings")
    assert list(pages["scored_for"].dt.date) == [two_nights["next"]]
    assert pages["model_version"].iloc[0].startswith(f"meta_full_{two_nights['next']:%Y%m%d}_")


def test_a_rollback_serves_the_previous_nights_model(two_nights: dict) -> None:
    copy = two_nights["copy"]
    previous = two_nights["first"]["meta_models"]
    version = previous[previous["variant"] == "full"]["model_version"].iloc[0]
    run_dbt([*BUILD, "--select", "int_meta_served+", "--vars",
                     json.dumps({"run_date": two_nights["next"].isoformat(), "meta_model_version": version})],
            warehouse=copy)
    pages = _df(copy, "select * from main.home_page_rankings")
    assert set(pages["model_version"]) == {version}
    old_terms = _df(copy, "select * from main.meta_model_coefficients where model_version = ?", [version])
    scored = _df(copy, f"""
        select f.*, s.meta_score from {_features_sql()} f join main.int_meta_scores s
        using (scored_for, user_id, sale_id) where s.is_candidate
        """)
    np.testing.assert_allclose(scored["meta_score"], 1 / (1 + np.exp(-_logit(scored, old_terms))), atol=1e-9)
    served = _df(copy, f"""
        select f.*, h.score from main.home_page_rankings h join {_features_sql()} f using (scored_for, user_id, sale_id)
        """)
    np.testing.assert_allclose(served["score"], 1 / (1 + np.exp(-_logit(served, old_terms))), atol=1e-9)
