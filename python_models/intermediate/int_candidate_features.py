"""Every recommender score and signal of each scored (day, customer, sale) pair: the one table the marts read.

Tonight the candidates of every active customer; on evaluation days every open sale, flagged with is_candidate; on
the other training days the training pairs (int_training_pairs).
The CF and content-based scores are matrix products, block by block of customers (vitrine.recommenders.scoring),
computed by THREADS threads; the table is written from their stream of record batches, never held whole.
"""

THREADS = 2


def model(dbt, session):
    dbt.config(materialized="table")
    from vitrine.recommenders.scoring import INPUT_COLUMNS, ScoringConfig, ScoringInputs, feature_reader

    config = ScoringConfig.parse(
        candidates_per_recommender=dbt.config.get("candidates_per_recommender"),
        candidates_popular=dbt.config.get("candidates_popular"),
        text_terms_per_user=dbt.config.get("text_terms_per_user"),
        profile_min_weight=dbt.config.get("profile_min_weight"),
    )
    refs = {
        "days": dbt.ref("int_scoring_days"),
        "users": dbt.ref("int_scoring_users"),
        "open_sales": dbt.ref("int_open_sales"),
        "popularity": dbt.ref("int_sale_popularity"),
        "purchases": dbt.ref("stg_purchases"),
        "window": dbt.ref("int_user_window_sales"),
        "similarity": dbt.ref("int_cf_similarity"),
        "weights": dbt.ref("int_user_sale_weights"),
        "sale_profiles": dbt.ref("int_sale_profiles"),
        "price_reference": dbt.ref("int_user_price_reference"),
        "training_pairs": dbt.ref("int_training_pairs"),
    }
    # visit counts are sums (HUGEINT in DuckDB): read as BIGINT
    counts = {"visits", "recent_visits"}
    columns = {
        name: rel.project(", ".join(f"cast({c} as bigint) as {c}" if c in counts else c for c in INPUT_COLUMNS[name]))
        .fetchnumpy()
        for name, rel in refs.items()
    }
    session.register("int_candidate_features__batches",
                     feature_reader(ScoringInputs.from_columns(columns), config, threads=THREADS))
    return session.sql("select * from int_candidate_features__batches")
