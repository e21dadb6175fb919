"""The night a dbt run scores, read from int_scoring_days by the Python models."""

from __future__ import annotations

from datetime import date

import pandas as pd


def run_date_of(scoring_days: pd.DataFrame) -> date | None:
    """The night of int_scoring_days (None when the warehouse has no visits yet)."""
    nightly = scoring_days[scoring_days["is_nightly"].astype(bool)]
    if nightly.empty:
        return None
    return pd.to_datetime(nightly["scored_for"]).dt.date.iloc[0]
