"""Each image's theme scores in % under tonight's themes (they sum to 100 per image).

See vitrine.themes.warehouse.night_shares.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from vitrine.frames import model_result, to_pandas
    from vitrine.scoring_days import run_date_of
    from vitrine.themes.warehouse import SHARES_SCHEMA, night_shares

    run_date = run_date_of(to_pandas(dbt.ref("int_scoring_days")))
    if run_date is None:
        return model_result(SHARES_SCHEMA.empty_table(), session)
    shares = night_shares(to_pandas(dbt.ref("int_image_labels")), to_pandas(dbt.ref("int_theme_fits")), run_date)
    return model_result(shares, session)
