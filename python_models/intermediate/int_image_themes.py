"""Each image's theme scores in % under tonight's themes (they sum to 100 per image).

See vitrine.themes.warehouse.night_shares.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from vitrine.scoring_days import run_date_of
    from vitrine.themes.warehouse import SHARES_SCHEMA, night_shares

    run_date = run_date_of(dbt.ref("int_scoring_days").df())
    if run_date is None:
        return SHARES_SCHEMA.empty_table()
    return night_shares(dbt.ref("int_image_labels").df(), dbt.ref("int_theme_fits").df(), run_date)
