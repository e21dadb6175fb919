"""The recommenders' matrix scoring (vitrine.recommenders.scoring, the dbt Python model int_candidate_features) on
tiny hand-computed inputs: the CF sum, the customer profiles and the content cosine, the candidate rule (top N with
ties by sale_id, the popular sales, purchases removed after the top N), the history days' flags, the signals, and
the rounding (as SQL's round(x, 10)).

Values are chosen so that the arithmetic is exact in floating point (powers of two, 3-4-5 triangles).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from vitrine.recommenders.scoring import (
    FEATURE_SCHEMA,
    ScoringConfig,
    ScoringInputs,
    _Days,
    _distinct_ids,
    feature_reader,
    round_like_sql,
    top_n_mask,
    top_n_positions,
)

NIGHT = dt.date(2026, 1, 10)
HISTORY = dt.date(2026, 1, 9)


def _table(rows: list[dict], columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    out = {}
    for c in columns:
        values = [r[c] for r in rows]
        if values and isinstance(values[0], dt.date):
            out[c] = np.array(values, dtype="datetime64[D]")
        elif c == "family":
            out[c] = np.array(values, dtype=object)
        else:
            out[c] = np.array(values)
    return out


def _inputs(**tables: list[dict]) -> ScoringInputs:
    from vitrine.recommenders.scoring import INPUT_COLUMNS

    defaults = {
        "days": [{"scored_for": NIGHT, "is_nightly": True, "is_evaluation": False}],
        "popularity": [],
        "training_pairs": [],
        "purchases": [],
        "window": [],
        "similarity": [],
        "weights": [],
        "sale_profiles": [],
        "price_reference": [],
    }
    defaults.update(tables)
    # every open sale has its popularity row (as int_sale_popularity): rank by sale_id unless given
    if "popularity" not in tables:
        defaults["popularity"] = [
            {"scored_for": r["scored_for"], "sale_id": r["sale_id"], "recent_visits": 0, "popularity_rank": 100 + i}
            for i, r in enumerate(defaults["open_sales"])
        ]
    columns = {}
    for name, cols in INPUT_COLUMNS.items():
        rows = defaults[name]
        if rows:
            columns[name] = _table(rows, cols)
        else:
            columns[name] = {c: np.array([], dtype="datetime64[D]" if c in {"scored_for", "purchased_on"}
                                         else object if c == "family" else np.int64) for c in cols}
    return ScoringInputs.from_columns(columns)


def _rows(inputs: ScoringInputs, **config) -> dict[tuple, dict]:
    table = feature_reader(inputs, ScoringConfig(**config)).read_all()
    assert table.schema == FEATURE_SCHEMA
    return {(r["scored_for"], r["user_id"], r["sale_id"]): r for r in table.to_pylist()}


def _users(*ids: int, day: dt.date = NIGHT) -> list[dict]:
    return [{"scored_for": day, "user_id": u, "is_active_tonight": day == NIGHT} for u in ids]


def _open(*ids: int, day: dt.date = NIGHT) -> list[dict]:
    return [{"scored_for": day, "sale_id": s, "price_eur": 100.0 * s, "days_since_open": 1, "days_left": 2}
            for s in ids]


def test_top_n_keeps_the_largest_positive_entries_ties_by_the_smaller_column() -> None:
    scores = np.array([[0.5, 1.0, 0.5, 0.0, 0.5], [0.0, 0.0, 0.25, 0.0, 0.0]])
    assert top_n_mask(scores, 3).tolist() == [
        [True, True, True, False, False],  # 1.0, then the two first of the three 0.5
        [False, False, True, False, False],  # only one positive entry
    ]
    assert top_n_mask(scores, 10).tolist() == (scores > 0).tolist()


def test_top_n_positions_order_the_kept_entries_and_give_n_plus_one_elsewhere() -> None:
    scores = np.array([[0.5, 1.0, 0.5, 0.0, 0.5], [0.0, 0.0, 0.25, 0.0, 0.0]])
    assert top_n_positions(scores, 3).tolist() == [[2, 1, 3, 4, 4], [4, 4, 1, 4, 4]]
    assert top_n_positions(scores, 10).tolist() == [[2, 1, 3, 11, 4], [11, 11, 1, 11, 11]]
    assert top_n_positions(np.zeros((0, 4)), 3).shape == (0, 4)


def test_top_n_positions_agree_with_sorting_each_row() -> None:
    """Against the definition (row_number by score desc, column asc among positive entries), on rows full of ties."""
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 6, size=(300, 40)) / 4.0
    for n in (1, 5, 39, 40, 50):
        positions = top_n_positions(scores, n)
        for row, got in zip(scores, positions, strict=True):
            order = sorted((c for c in range(len(row)) if row[c] > 0), key=lambda c: (-row[c], c))[:n]
            expected = np.full(len(row), n + 1)
            expected[order] = np.arange(1, len(order) + 1)
            assert got.tolist() == expected.tolist()
        assert ((positions <= n) == top_n_mask(scores, n)).all()


def test_cf_score_sums_the_similarities_of_the_visited_sales() -> None:
    """u1 visited sales 1 and 5, neighbours of open sale 2 with sim 0.5 and 1: cf = 1.5. u2 visited only sale 3,
    no neighbour of anything: cf 0 (a pair only as a popular sale). u3 is not scored that day: no row."""
    inputs = _inputs(
        users=_users(1, 2),
        open_sales=_open(2, 4),
        popularity=[{"scored_for": NIGHT, "sale_id": 4, "recent_visits": 9, "popularity_rank": 1},
                    {"scored_for": NIGHT, "sale_id": 2, "recent_visits": 7, "popularity_rank": 2}],
        window=[{"scored_for": NIGHT, "user_id": u, "sale_id": s, "visits": 1}
                for u, s in [(1, 1), (1, 5), (2, 3), (3, 1)]],
        similarity=[{"scored_for": NIGHT, "sale_id": 2, "neighbour_sale_id": 5, "similarity": 1.0},
                    {"scored_for": NIGHT, "sale_id": 2, "neighbour_sale_id": 1, "similarity": 0.5}],
    )
    rows = _rows(inputs, candidates_popular=1)
    assert set(rows) == {(NIGHT, 1, 2), (NIGHT, 1, 4), (NIGHT, 2, 4)}
    assert rows[(NIGHT, 1, 2)]["cf_score"] == 1.5
    assert rows[(NIGHT, 1, 4)]["cf_score"] == 0.0
    assert all(r["is_candidate"] for r in rows.values())


def test_content_score_is_the_cosine_of_the_profiles_per_family() -> None:
    """u1 weighs sale 1 (weight 3) and sale 2 (weight 4). Text profiles: sale 1 {beach: 1}, sale 2 {pool: 1}
    -> u1 text {beach: 3, pool: 4} / 5. Destination: both sales {country:fr: 1} -> u1 {country:fr: 1}.
    Open sale 3: text {beach: 0.6, ski: 0.8}, destination {country:fr: 1}: text 0.6 * 0.6 = 0.36, destination 1.
    Open sale 4: text {pool: 1}: text 0.8. Sale 5 is not open: no row."""
    profiles = [
        (1, "text", 1, 1.0), (2, "text", 3, 1.0), (3, "text", 1, 0.6), (3, "text", 4, 0.8), (4, "text", 3, 1.0),
        (5, "text", 1, 1.0), (1, "destination", 0, 1.0), (2, "destination", 0, 1.0), (3, "destination", 0, 1.0),
    ]
    inputs = _inputs(
        users=_users(1),
        open_sales=_open(3, 4),
        weights=[{"scored_for": NIGHT, "user_id": 1, "sale_id": s, "weight": w} for s, w in [(1, 3.0), (2, 4.0)]],
        sale_profiles=[{"sale_id": s, "family": f, "feature_id": i, "value": v} for s, f, i, v in profiles],
    )
    rows = _rows(inputs)
    assert set(rows) == {(NIGHT, 1, 3), (NIGHT, 1, 4)}
    assert rows[(NIGHT, 1, 3)]["cb_text_score"] == pytest.approx(0.36, abs=1e-12)
    assert rows[(NIGHT, 1, 3)]["cb_destination_score"] == pytest.approx(1.0, abs=1e-12)
    assert rows[(NIGHT, 1, 4)]["cb_text_score"] == pytest.approx(0.8, abs=1e-12)
    assert rows[(NIGHT, 1, 4)]["cb_destination_score"] == 0.0
    assert rows[(NIGHT, 1, 3)]["cb_price_score"] == rows[(NIGHT, 1, 3)]["cb_image_score"] == 0.0


def test_text_profile_skips_light_sales_and_keeps_the_strongest_words() -> None:
    """Sale 1 (weight 0.05, under profile_min_weight 0.1) would bring the word 'ski'; sale 2 (weight 1) brings
    beach 0.8 and pool 0.6 (and a destination). With text_terms_per_user = 1 only 'beach' stays: the customer's
    text profile is {beach: 1}. Open sale 3 {ski: 1}: no text score; open sale 4 {pool: 1}: none either (pool was
    cut); open sale 5 {beach: 1}: 1. The light sale still counts for the other families: destination 'it' from
    sale 1 scores open sale 3 (country:it)."""
    profiles = [
        (1, "text", 3, 1.0), (2, "text", 1, 0.8), (2, "text", 2, 0.6),
        (3, "text", 3, 1.0), (4, "text", 2, 1.0), (5, "text", 1, 1.0),
        (1, "destination", 11, 1.0), (3, "destination", 11, 1.0),
    ]
    inputs = _inputs(
        users=_users(1),
        open_sales=_open(3, 4, 5),
        weights=[{"scored_for": NIGHT, "user_id": 1, "sale_id": s, "weight": w} for s, w in [(1, 0.05), (2, 1.0)]],
        sale_profiles=[{"sale_id": s, "family": f, "feature_id": i, "value": v} for s, f, i, v in profiles],
    )
    rows = _rows(inputs, text_terms_per_user=1)
    assert set(rows) == {(NIGHT, 1, 3), (NIGHT, 1, 5)}
    assert rows[(NIGHT, 1, 5)]["cb_text_score"] == 1.0
    assert rows[(NIGHT, 1, 3)]["cb_text_score"] == 0.0
    assert rows[(NIGHT, 1, 3)]["cb_destination_score"] == 1.0


def test_candidates_are_each_recommenders_top_n_and_the_popular_sales_minus_purchases() -> None:
    """Tonight, N = 2 per recommender: CF scores sale 10 (0.5), 11 (0.5), 12 (0.5), 13 (0.25): top 2 = 10, 11
    (ties by sale_id). Sale 14 is the most popular. u1 bought sale 10 before tonight: removed after the top N
    (12 does not move up). A purchase tonight (not before) removes nothing."""
    sims = [(10, 0.5), (11, 0.5), (12, 0.5), (13, 0.25)]
    inputs = _inputs(
        users=_users(1),
        open_sales=_open(10, 11, 12, 13, 14),
        popularity=[{"scored_for": NIGHT, "sale_id": 14, "recent_visits": 5, "popularity_rank": 1}]
        + [{"scored_for": NIGHT, "sale_id": s, "recent_visits": 1, "popularity_rank": r + 2}
           for r, (s, _) in enumerate(sims)],
        window=[{"scored_for": NIGHT, "user_id": 1, "sale_id": 1, "visits": 1}],
        similarity=[{"scored_for": NIGHT, "sale_id": s, "neighbour_sale_id": 1, "similarity": v} for s, v in sims],
        purchases=[{"user_id": 1, "sale_id": 10, "purchased_on": dt.date(2026, 1, 3)},
                   {"user_id": 1, "sale_id": 11, "purchased_on": NIGHT}],
    )
    rows = _rows(inputs, candidates_per_recommender=2, candidates_popular=1)
    assert sorted(s for _, _, s in rows) == [11, 14]


def test_evaluation_days_keep_every_open_sale_flagged() -> None:
    """On an evaluation day every open sale is a pair of each scored customer, is_candidate as tonight's rule says;
    a sale bought before the day is still no pair."""
    inputs = _inputs(
        days=[{"scored_for": NIGHT, "is_nightly": True, "is_evaluation": False},
              {"scored_for": HISTORY, "is_nightly": False, "is_evaluation": True}],
        users=_users(1, day=HISTORY),
        open_sales=_open(10, 11, 12, day=HISTORY),
        window=[{"scored_for": HISTORY, "user_id": 1, "sale_id": 1, "visits": 1}],
        similarity=[{"scored_for": HISTORY, "sale_id": 11, "neighbour_sale_id": 1, "similarity": 0.5}],
        purchases=[{"user_id": 1, "sale_id": 12, "purchased_on": dt.date(2026, 1, 1)}],
    )
    rows = _rows(inputs, candidates_popular=0)
    assert {k: (r["is_candidate"], r["cf_score"]) for k, r in rows.items()} == {
        (HISTORY, 1, 10): (False, 0.0),
        (HISTORY, 1, 11): (True, 0.5),
    }


def test_training_only_days_keep_only_the_training_pairs_with_the_whole_days_ranks() -> None:
    """On a history day that is not an evaluation day only the training pairs are rows; their scores, ranks and
    candidate flags are those the full day gives (ranks count every open sale, not only the pairs)."""
    days = [{"scored_for": NIGHT, "is_nightly": True, "is_evaluation": False},
            {"scored_for": HISTORY, "is_nightly": False, "is_evaluation": True}]
    world = {
        "users": _users(1, 2, day=HISTORY),
        "open_sales": _open(10, 11, 12, 13, day=HISTORY),
        "window": [{"scored_for": HISTORY, "user_id": u, "sale_id": 1, "visits": 1} for u in (1, 2)],
        "similarity": [{"scored_for": HISTORY, "sale_id": s, "neighbour_sale_id": 1, "similarity": v}
                       for s, v in ((10, 0.9), (11, 0.5), (12, 0.7), (13, 0.1))],
        "training_pairs": [{"scored_for": HISTORY, "user_id": 1, "sale_id": 11},
                           {"scored_for": HISTORY, "user_id": 1, "sale_id": 13},
                           {"scored_for": HISTORY, "user_id": 2, "sale_id": 12}],
    }
    full = _rows(_inputs(days=days, **world), candidates_per_recommender=2, candidates_popular=0)
    training_only = [{**d, "is_evaluation": False} for d in days]
    pairs = _rows(_inputs(days=training_only, **world), candidates_per_recommender=2, candidates_popular=0)
    assert len(full) == 8
    assert set(pairs) == {(HISTORY, 1, 11), (HISTORY, 1, 13), (HISTORY, 2, 12)}
    assert all(pairs[k] == full[k] for k in pairs)
    assert (pairs[(HISTORY, 1, 11)]["cf_rank"], pairs[(HISTORY, 1, 13)]["cf_rank"]) == (3, 3)
    assert (pairs[(HISTORY, 2, 12)]["cf_rank"], pairs[(HISTORY, 2, 12)]["is_candidate"]) == (2, True)


def test_a_family_the_scoring_does_not_know_is_an_error() -> None:
    inputs = _inputs(
        users=_users(1), open_sales=_open(1),
        sale_profiles=[{"sale_id": 1, "family": "video", "feature_id": 1, "value": 1.0}],
    )
    with pytest.raises(ValueError, match="video"):
        _rows(inputs)


def test_empty_inputs_give_an_empty_table() -> None:
    table = feature_reader(_inputs(users=[], open_sales=[]), ScoringConfig()).read_all()
    assert table.num_rows == 0 and table.schema == FEATURE_SCHEMA
    assert isinstance(table, pa.Table)


def test_scoring_in_threads_gives_the_same_batches_in_the_same_order() -> None:
    """Blocks scored by 3 threads (at most 4 ahead of the reader) come out as one thread gives them: every block,
    in day and block order. 40 customers in blocks of 3 (14 blocks), each with its own visits and CF scores."""
    users = list(range(1, 41))
    inputs = _inputs(
        users=_users(*users),
        open_sales=_open(10, 11, 12, 13),
        window=[{"scored_for": NIGHT, "user_id": u, "sale_id": 1 + u % 3, "visits": u} for u in users],
        similarity=[{"scored_for": NIGHT, "sale_id": s, "neighbour_sale_id": n, "similarity": 0.1 * n + 0.01 * s}
                    for s in (10, 11, 12, 13) for n in (1, 2, 3)],
    )
    config = ScoringConfig(candidates_per_recommender=2, candidates_popular=0, users_per_block=3)
    one = list(feature_reader(inputs, config))
    three = list(feature_reader(inputs, config, threads=3))
    assert len(one) == 14
    assert [b.column("user_id").to_pylist() for b in three] == [b.column("user_id").to_pylist() for b in one]
    assert pa.Table.from_batches(three).equals(pa.Table.from_batches(one))
    with pytest.raises(ValueError, match="threads"):
        feature_reader(inputs, config, threads=0)


def test_signals_of_a_pair() -> None:
    """The sale's popularity and dates, the customer's own visits to it, the price against the customer's median
    visited price (null without one)."""
    inputs = _inputs(
        users=_users(1, 2),
        open_sales=_open(3),
        popularity=[{"scored_for": NIGHT, "sale_id": 3, "recent_visits": 12, "popularity_rank": 1}],
        window=[{"scored_for": NIGHT, "user_id": 1, "sale_id": 3, "visits": 4}],
        price_reference=[{"scored_for": NIGHT, "user_id": 1, "median_visited_price_eur": 400.0}],
    )
    rows = _rows(inputs)
    first, second = rows[(NIGHT, 1, 3)], rows[(NIGHT, 2, 3)]
    assert (first["popularity_visits"], first["popularity_rank"], first["user_sale_visits"]) == (12, 1, 4)
    assert (first["days_since_open"], first["days_left"], first["price_eur"]) == (1, 2, 300.0)
    assert first["price_ratio"] == 0.75
    assert second["user_sale_visits"] == 0 and second["price_ratio"] is None


def test_rounding_is_sqls_round_to_10_decimals() -> None:
    """Half away from zero on the exact product: 0.93548466475 is stored just under its decimal value, and
    x * 1e10 lands exactly on ...47.5 in doubles; DuckDB (and this) round it down."""
    duckdb = pytest.importorskip("duckdb")
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.random(50_000), rng.random(50_000) * 1e-9, [0.9354846647499999, 0.125, 0.0]])
    con = duckdb.connect()
    con.register("v", pa.table({"x": values}))
    expected = con.sql("select round(x, 10) as r from v").fetchnumpy()["r"]
    assert np.array_equal(round_like_sql(values), expected)


@pytest.mark.parametrize("span", [31, 40_000])  # 16-bit radix keys, and 64-bit keys past 32,768 days
def test_the_rows_of_a_day_are_the_same_sorted_or_not(span: int) -> None:
    rng = np.random.default_rng(3)
    days = rng.integers(20_000, 20_000 + span, 5_000)
    table = {"scored_for": days, "value": np.arange(len(days))}
    shuffled, in_order = _Days(table), _Days({c: v[np.argsort(days, kind="stable")] for c, v in table.items()})
    assert shuffled.order is not None and in_order.order is None
    for day in [*np.unique(days)[:50].tolist(), 19_999, 20_000 + span]:
        got, expected = shuffled.rows(day), in_order.rows(day)
        assert (got["scored_for"] == day).all()
        np.testing.assert_array_equal(got["value"], expected["value"])  # each day's rows keep their order
        np.testing.assert_array_equal(got["value"], np.flatnonzero(days == day))


def test_distinct_ids_are_numpy_unique_of_all_arrays() -> None:
    rng = np.random.default_rng(4)
    small = [rng.integers(0, 5_000, n) for n in (10_000, 0, 7)]
    assert _distinct_ids([]).tolist() == []
    np.testing.assert_array_equal(_distinct_ids(small), np.unique(np.concatenate(small)))
    wide = [np.array([-3, 10**15, 5]), np.array([5, 7])]  # negative or sparse ids: np.unique
    np.testing.assert_array_equal(_distinct_ids(wide), [-3, 5, 7, 10**15])
