"""Tonight's meta models (the served one and the one without image features), one row per model and term.

Incremental by trained_for: earlier nights' models stay, so a night can be explained and rolled back
(var meta_model_version). Nothing is trained on a night whose history is too short (int_meta_readiness).
See vitrine.meta.warehouse.train_night.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="delete+insert", unique_key="trained_for")
    from vitrine.meta.warehouse import FIT_SCHEMA, MetaConfig, train_night
    from vitrine.scoring_days import run_date_of

    run_date = run_date_of(dbt.ref("int_scoring_days").df())
    readiness = dbt.ref("int_meta_readiness").df()
    if run_date is None or not readiness["is_ready"].astype(bool).all():
        return FIT_SCHEMA.empty_table()  # too little history: the night is ranked without a meta model
    # dbt hands a Python model only the config keys that its source reads as literal dbt.config.get("...") calls
    config = MetaConfig.parse(
        features=dbt.config.get("meta_features"),
        image_features=dbt.config.get("meta_image_features"),
        validation_days=dbt.config.get("meta_validation_days"),
        grid=dbt.config.get("meta_regularization_grid"),
    )
    return train_night(dbt.ref("int_meta_examples").df(), run_date, config)
