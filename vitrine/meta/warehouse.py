"""The meta model inside the dbt build: tonight's fits in long form, one row per (model, term).

Called by python_models/intermediate/int_meta_fits.py. The SQL models int_home_page_picks (tonight's candidates)
and int_meta_scores (the evaluation days) read these rows and score in the warehouse (a logistic regression is a
weighted sum: no data leaves the database).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
from threadpoolctl import threadpool_limits

from vitrine.meta.train import DEFAULT_GRID, MetaFit, train_meta_model

INTERCEPT = "(intercept)"

FIT_SCHEMA = pa.schema([
    ("trained_for", pa.date32()),
    ("model_version", pa.string()),
    ("variant", pa.string()),
    ("term_order", pa.int64()),
    ("term", pa.string()),
    ("center", pa.float64()),
    ("scale", pa.float64()),
    ("coefficient", pa.float64()),
    ("regularization_c", pa.float64()),
    ("train_from", pa.date32()),
    ("train_to", pa.date32()),
    ("validation_from", pa.date32()),
    ("validation_to", pa.date32()),
    ("examples", pa.int64()),
    ("positives", pa.int64()),
    ("validation_examples", pa.int64()),
    ("validation_auc", pa.float64()),
    ("validation_log_loss", pa.float64()),
])


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


@dataclass(frozen=True)
class MetaConfig:
    features: tuple[str, ...]
    image_features: tuple[str, ...] = ()
    validation_days: int = 7
    grid: tuple[float, ...] = DEFAULT_GRID

    def __post_init__(self) -> None:
        if not self.features:
            raise ValueError("meta_features is empty: the meta model needs at least one feature")
        unknown = set(self.image_features) - set(self.features)
        if unknown:
            raise ValueError(f"meta_image_features {sorted(unknown)} are not in meta_features")

    @classmethod
    def parse(cls, *, features: Any, image_features: Any, validation_days: Any, grid: Any) -> MetaConfig:
        """From the dbt config values (comma-separated strings or lists)."""
        grid_values = _names(grid)
        return cls(
            features=_names(features),
            image_features=_names(image_features),
            validation_days=int(validation_days or 7),
            grid=tuple(float(c) for c in grid_values) if grid_values else DEFAULT_GRID,
        )

    def variants(self) -> dict[str, tuple[str, ...]]:
        """full: every feature (the model served); no_image: without the image features (to measure them)."""
        variants = {"full": self.features}
        if self.image_features:
            variants["no_image"] = tuple(f for f in self.features if f not in self.image_features)
        return variants


def fit_rows(fit: MetaFit) -> list[dict[str, Any]]:
    common = {
        "trained_for": fit.trained_for,
        "model_version": fit.model_version,
        "variant": fit.variant,
        "regularization_c": fit.regularization_c,
        "train_from": fit.train_from,
        "train_to": fit.train_to,
        "validation_from": fit.validation_from,
        "validation_to": fit.validation_to,
        "examples": fit.examples,
        "positives": fit.positives,
        "validation_examples": fit.validation_examples,
        "validation_auc": fit.validation_auc,
        "validation_log_loss": fit.validation_log_loss,
    }
    rows = [{**common, "term_order": 0, "term": INTERCEPT, "center": 0.0, "scale": 1.0,
             "coefficient": fit.intercept}]
    for i, (name, center, scale, coefficient) in enumerate(
        zip(fit.features, fit.centers, fit.scales, fit.coefficients, strict=True), start=1
    ):
        rows.append({**common, "term_order": i, "term": name, "center": center, "scale": scale,
                     "coefficient": coefficient})
    return rows


def train_night(examples: pd.DataFrame, run_date: date, config: MetaConfig, threads: int = 2) -> pa.Table:
    """Tonight's models, trained on the training days that are not evaluation days (those stay unseen).

    The variants are fitted in `threads` threads (scikit-learn's lbfgs spends its time in numpy, which releases
    the GIL), each with a single-threaded BLAS: BLAS's own threads on top of ours oversubscribed the cores. Faster
    than BLAS's default threads or one fit after the other (docs/benchmarks.md), with the same coefficients (to
    rounding), chosen C and AUC.
    """
    learnable = examples[~examples["is_evaluation_day"].astype(bool)]
    variants = config.variants()
    workers = max(1, min(threads, len(variants)))
    with threadpool_limits(limits=1 if workers > 1 else None), ThreadPoolExecutor(workers) as pool:
        fits = [pool.submit(train_meta_model, learnable, features, trained_for=run_date, variant=variant,
                            validation_days=config.validation_days, grid=config.grid)
                for variant, features in variants.items()]
        rows = [row for fit in fits for row in fit_rows(fit.result())]
    return pa.Table.from_pylist(rows, schema=FIT_SCHEMA)

