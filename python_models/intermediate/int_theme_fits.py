"""Tonight's NMF themes (one row per theme and tag), appended to the fits of earlier nights.

Incremental by fitted_for: a rerun for a date replaces that date's fit, and warm-starts from the last fit before
it, so it gives the same themes. See vitrine.themes.warehouse.fit_night.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="delete+insert", unique_key="fitted_for")
    from vitrine.scoring_days import run_date_of
    from vitrine.themes.warehouse import FIT_SCHEMA, ThemeConfig, fit_night

    run_date = run_date_of(dbt.ref("int_scoring_days").df())
    if run_date is None:
        return FIT_SCHEMA.empty_table()
    history = session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else None
    # dbt hands a Python model only the config keys that its source reads as literal dbt.config.get("...") calls
    config = ThemeConfig.parse(
        themes=dbt.config.get("theme_count"),
        weighting=dbt.config.get("theme_weighting"),
        seed=dbt.config.get("theme_seed"),
    )
    return fit_night(dbt.ref("int_image_labels").df(), history, run_date, config)
