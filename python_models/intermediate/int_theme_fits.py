"""Tonight's NMF themes (one row per theme and tag), appended to the fits of earlier nights.

Incremental by fitted_for (the strategy per engine: _intermediate__python_models.yml): a rerun for a date replaces
that date's fit, and warm-starts from the last fit before it, so it gives the same themes.
See vitrine.themes.warehouse.fit_night.
"""


def model(dbt, session):
    from vitrine.frames import model_result, to_pandas
    from vitrine.scoring_days import run_date_of
    from vitrine.themes.warehouse import FIT_SCHEMA, ThemeConfig, fit_night

    run_date = run_date_of(to_pandas(dbt.ref("int_scoring_days")))
    if run_date is None:
        return model_result(FIT_SCHEMA.empty_table(), session)
    history = to_pandas(session.sql(f"select * from {dbt.this}")) if dbt.is_incremental else None
    # dbt hands a Python model only the config keys that its source reads as literal dbt.config.get("...") calls
    config = ThemeConfig.parse(
        themes=dbt.config.get("theme_count"),
        weighting=dbt.config.get("theme_weighting"),
        seed=dbt.config.get("theme_seed"),
    )
    fit = fit_night(to_pandas(dbt.ref("int_image_labels")), history, run_date, config)
    return model_result(fit, session, replaces=(str(dbt.this), "fitted_for", run_date) if dbt.is_incremental else None)
