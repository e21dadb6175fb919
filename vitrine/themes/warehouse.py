"""The themes inside the dbt build: tonight's fit (warm-started from the last night's) and the images' shares.

Called by the thin dbt Python models python_models/intermediate/int_theme_fits.py and
python_models/intermediate/int_image_themes.py; tables in and out are pandas / pyarrow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from vitrine.themes.fit import fit_themes, themes_from_rows, themes_to_rows
from vitrine.themes.matrix import WEIGHTINGS, tag_matrix
from vitrine.themes.shares import image_theme_shares

FIT_SCHEMA = pa.schema([
    ("fitted_for", pa.date32()),
    ("label_model_version", pa.string()),
    ("weighting", pa.string()),
    ("images", pa.int64()),
    ("theme_id", pa.int64()),
    ("theme_name", pa.string()),
    ("tag_rank", pa.int64()),
    ("tag", pa.string()),
    ("weight", pa.float64()),
])

SHARES_SCHEMA = pa.schema([
    ("fitted_for", pa.date32()),
    ("image_id", pa.int64()),
    ("theme_id", pa.int64()),
    ("score_pct", pa.float64()),
])


@dataclass(frozen=True)
class ThemeConfig:
    themes: int = 30
    weighting: str = "tfidf"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.themes < 1:
            raise ValueError(f"theme_count must be at least 1, got {self.themes}")
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"theme_weighting must be one of {WEIGHTINGS}, got {self.weighting!r}")

    @classmethod
    def parse(cls, *, themes: Any, weighting: Any, seed: Any) -> ThemeConfig:
        """From the dbt config values (strings when they come from vars)."""
        return cls(themes=int(themes or 30), weighting=str(weighting or "tfidf"), seed=int(seed or 0))


def current_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """Tonight's tags of int_image_labels (is_tag: the trained scene head's current labels when the build has a
    head, else the pretrained classifier's): (image_id, label, probability, model_version)."""
    current = labels[labels["is_tag"].astype(bool)]
    return current[["image_id", "label", "probability", "model_version"]]


def previous_fit(history: pd.DataFrame | None, run_date: date) -> pd.DataFrame:
    """The rows of the latest fit strictly before run_date (a rerun for a date never sees its own fit)."""
    if history is None or history.empty:
        return pd.DataFrame(columns=FIT_SCHEMA.names)
    before = history[pd.to_datetime(history["fitted_for"]).dt.date < run_date]
    if before.empty:
        return before
    latest = pd.to_datetime(before["fitted_for"]).dt.date.max()
    return before[pd.to_datetime(before["fitted_for"]).dt.date == latest]


def fit_night(labels: pd.DataFrame, history: pd.DataFrame | None, run_date: date, config: ThemeConfig) -> pa.Table:
    """Tonight's themes in long form (one row per theme and tag), warm-started from the last fit before run_date.

    The previous fit is only used when it was made on the same labelling model and weighting: a new CNN or head
    (other tags), a switch between the pretrained and the scene-head tags, or another weighting starts afresh.
    """
    current = current_labels(labels)
    versions = sorted(current["model_version"].unique())
    version = versions[0] if len(versions) == 1 else ",".join(versions)
    prior_rows = previous_fit(history, run_date)
    if not prior_rows.empty and (
        set(prior_rows["label_model_version"]) != {version} or set(prior_rows["weighting"]) != {config.weighting}
    ):
        prior_rows = prior_rows.iloc[0:0]
    previous = themes_from_rows(prior_rows)
    x = tag_matrix(current, config.weighting)
    themes, _ = fit_themes(x, config.themes, previous=previous, seed=config.seed)
    rows = themes_to_rows(themes)
    return pa.table(
        {
            "fitted_for": [run_date] * len(rows),
            "label_model_version": [version] * len(rows),
            "weighting": [config.weighting] * len(rows),
            "images": [x.shape[0]] * len(rows),
            "theme_id": rows["theme_id"].astype("int64").tolist(),
            "theme_name": rows["theme_name"].astype(str).tolist(),
            "tag_rank": rows["tag_rank"].astype("int64").tolist(),
            "tag": rows["tag"].astype(str).tolist(),
            "weight": rows["weight"].astype(float).tolist(),
        },
        schema=FIT_SCHEMA,
    )


def night_shares(labels: pd.DataFrame, fit_rows: pd.DataFrame, run_date: date) -> pa.Table:
    """Each image's theme scores in % under the fit of run_date (W solved for that fit's fixed H)."""
    tonight = fit_rows[pd.to_datetime(fit_rows["fitted_for"]).dt.date == run_date] if not fit_rows.empty else fit_rows
    themes = themes_from_rows(tonight)
    if themes is None:
        return SHARES_SCHEMA.empty_table()
    weighting = str(tonight["weighting"].iloc[0])
    shares = image_theme_shares(tag_matrix(current_labels(labels), weighting), themes)
    return pa.table(
        {
            "fitted_for": [run_date] * len(shares),
            "image_id": shares["image_id"].astype("int64").tolist(),
            "theme_id": shares["theme_id"].astype("int64").tolist(),
            "score_pct": shares["score_pct"].astype(float).tolist(),
        },
        schema=SHARES_SCHEMA,
    )

