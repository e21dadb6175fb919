"""Training the meta model: standardise, fit a regularised logistic regression, choose C on later days.

The regularisation strength is chosen by time, not at random: the last `validation_days` days of the training
examples are held out, each C of the grid is fitted on the days before them and scored on them (log-loss), and the
best C is refitted on all the days. The validation AUC and log-loss reported are those of the held-out days, so
they say how the model did on days it had not seen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

DEFAULT_GRID: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)


class TrainingError(ValueError):
    """The examples cannot train a model (none, one class only, a missing feature...)."""


@dataclass(frozen=True)
class MetaFit:
    variant: str
    trained_for: date
    features: tuple[str, ...]
    centers: tuple[float, ...]
    scales: tuple[float, ...]
    coefficients: tuple[float, ...]  # per standardised feature
    intercept: float
    regularization_c: float
    train_from: date
    train_to: date
    validation_from: date
    validation_to: date
    examples: int
    positives: int
    validation_examples: int
    validation_auc: float
    validation_log_loss: float

    @property
    def model_version(self) -> str:
        """`meta_<variant>_<trained_for>_<hash>`: the hash of what the model computes, so equal models share it."""
        payload = json.dumps(
            [self.variant, list(self.features), [round(v, 12) for v in self.centers],
             [round(v, 12) for v in self.scales], [round(v, 12) for v in self.coefficients], round(self.intercept, 12)],
        )
        digest = hashlib.sha256(payload.encode()).hexdigest()[:10]
        return f"meta_{self.variant}_{self.trained_for:%Y%m%d}_{digest}"

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The logit for raw feature rows (n x features)."""
        z = (x - np.asarray(self.centers)) / np.asarray(self.scales)
        return z @ np.asarray(self.coefficients) + self.intercept

    def predict(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.decision(x)))


def split_by_time(examples: pd.DataFrame, validation_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The examples of the days before the last `validation_days` days, and those of the last days."""
    days = np.sort(pd.to_datetime(examples["example_on"]).dt.date.unique())
    if len(days) < 2:
        raise TrainingError(f"a time-based validation needs examples on 2 days or more, got {len(days)}")
    n_validation = min(max(validation_days, 1), len(days) - 1)
    first_validation_day = days[-n_validation]
    on = pd.to_datetime(examples["example_on"]).dt.date
    return examples[on < first_validation_day], examples[on >= first_validation_day]


def _matrix(examples: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    missing = [f for f in features if f not in examples.columns]
    if missing:
        raise TrainingError(f"the examples lack the features {missing}")
    x = examples[list(features)].to_numpy(dtype=np.float64)
    if not np.isfinite(x).all():
        bad = [f for f, ok in zip(features, np.isfinite(x).all(axis=0), strict=True) if not ok]
        raise TrainingError(f"features with missing or infinite values: {bad}")
    return x


def _labels(examples: pd.DataFrame, what: str) -> np.ndarray:
    y = examples["label"].to_numpy(dtype=np.int64)
    if len(np.unique(y)) < 2:
        raise TrainingError(f"the {what} examples hold one class only ({len(y)} examples): no model can be trained")
    return y


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[StandardScaler, LogisticRegression]:
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=2000).fit(scaler.transform(x), y)
    return scaler, model


def train_meta_model(
    examples: pd.DataFrame,
    features: Sequence[str],
    *,
    trained_for: date,
    variant: str = "full",
    validation_days: int = 7,
    grid: Sequence[float] = DEFAULT_GRID,
) -> MetaFit:
    """Fit the meta model on `examples` (example_on, label and the feature columns).

    The caller passes only the days the model may learn from (never the days it is evaluated on).
    """
    if examples.empty:
        raise TrainingError("no training examples: the warehouse needs purchases on the training days")
    if not grid:
        raise TrainingError("the regularisation grid is empty")
    examples = examples.sort_values(["example_on", "user_id", "sale_id"], kind="stable")
    train, validation = split_by_time(examples, validation_days)
    x_train, y_train = _matrix(train, features), _labels(train, "training")
    x_val, y_val = _matrix(validation, features), _labels(validation, "validation")

    scored: list[tuple[float, float, float]] = []  # (log_loss, auc, c)
    for c in sorted(grid):
        scaler, model = _fit(x_train, y_train, c)
        p = model.predict_proba(scaler.transform(x_val))[:, 1]
        scored.append((float(log_loss(y_val, p, labels=[0, 1])), float(roc_auc_score(y_val, p)), float(c)))
    best_loss, best_auc, best_c = min(scored, key=lambda s: (s[0], s[2]))

    x_all = np.vstack([x_train, x_val])
    y_all = np.concatenate([y_train, y_val])
    scaler, model = _fit(x_all, y_all, best_c)
    days = pd.to_datetime(examples["example_on"]).dt.date
    val_days = pd.to_datetime(validation["example_on"]).dt.date
    return MetaFit(
        variant=variant,
        trained_for=trained_for,
        features=tuple(features),
        centers=tuple(float(v) for v in scaler.mean_),
        scales=tuple(float(v) for v in scaler.scale_),
        coefficients=tuple(float(v) for v in model.coef_[0]),
        intercept=float(model.intercept_[0]),
        regularization_c=best_c,
        train_from=days.min(),
        train_to=days.max(),
        validation_from=val_days.min(),
        validation_to=val_days.max(),
        examples=len(examples),
        positives=int(y_all.sum()),
        validation_examples=len(validation),
        validation_auc=best_auc,
        validation_log_loss=best_loss,
    )
