"""Tonight's meta models (the served one and the one without image features), one row per model and term.

Incremental by trained_for (the strategy per engine: _intermediate__python_models.yml): earlier nights' models stay,
so a night can be explained and rolled back (var meta_model_version). Nothing is trained on a night whose history
is too short (int_meta_readiness). See vitrine.meta.warehouse.train_night.
"""


def model(dbt, session):
    from vitrine.frames import model_result, to_pandas
    from vitrine.meta.warehouse import FIT_SCHEMA, MetaConfig, train_night
    from vitrine.scoring_days import run_date_of

    run_date = run_date_of(to_pandas(dbt.ref("int_scoring_days")))
    readiness = to_pandas(dbt.ref("int_meta_readiness"))
    if run_date is None or not readiness["is_ready"].astype(bool).all():
        # too little history: the night is ranked without a meta model; the models stored stay
        return model_result(FIT_SCHEMA.empty_table(), session,
                            replaces=(str(dbt.this), "trained_for", None) if dbt.is_incremental else None)
    # dbt hands a Python model only the config keys that its source reads as literal dbt.config.get("...") calls
    config = MetaConfig.parse(
        features=dbt.config.get("meta_features"),
        image_features=dbt.config.get("meta_image_features"),
        validation_days=dbt.config.get("meta_validation_days"),
        grid=dbt.config.get("meta_regularization_grid"),
    )
    fits = train_night(to_pandas(dbt.ref("int_meta_examples")), run_date, config)
    replaces = (str(dbt.this), "trained_for", run_date) if dbt.is_incremental else None
    return model_result(fits, session, replaces=replaces)
