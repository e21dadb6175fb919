"""The meta model's training rules (vitrine.meta): time-based choice of C, no evaluation day learnt, clear errors."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from vitrine.meta import TrainingError, split_by_time, train_meta_model
from vitrine.meta.warehouse import INTERCEPT, MetaConfig, train_night

FEATURES = ("signal", "noise", "constant")
START = date(2026, 3, 1)


def examples(days: int = 20, per_day: int = 120, seed: int = 0, evaluation_days: int = 0) -> pd.DataFrame:
    """A planted problem: P(buy) rises with `signal`; `noise` is unrelated; `constant` never varies."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        signal = rng.normal(size=per_day)
        label = (rng.random(per_day) < 1 / (1 + np.exp(-(2.0 * signal - 1.5)))).astype(int)
        for i in range(per_day):
            rows.append({
                "example_on": START + timedelta(days=d), "user_id": i, "sale_id": d * 1000 + i, "label": label[i],
                "signal": signal[i], "noise": rng.normal(), "constant": 1.0,
                "is_evaluation_day": d >= days - evaluation_days,
            })
    return pd.DataFrame(rows)


def test_validation_is_the_last_days() -> None:
    data = examples(days=10)
    train, validation = split_by_time(data, validation_days=3)
    assert train["example_on"].max() < validation["example_on"].min()
    assert sorted(validation["example_on"].unique()) == [START + timedelta(days=d) for d in (7, 8, 9)]
    # at least one day stays to train on
    train, validation = split_by_time(data, validation_days=50)
    assert train["example_on"].nunique() == 1 and validation["example_on"].nunique() == 9


def test_the_model_learns_the_planted_signal_and_reports_honest_validation() -> None:
    fit = train_meta_model(examples(), FEATURES, trained_for=START + timedelta(days=20), validation_days=5)
    weights = dict(zip(fit.features, fit.coefficients, strict=True))
    assert weights["signal"] > 1.0
    assert abs(weights["noise"]) < 0.2
    assert weights["constant"] == 0.0 and fit.scales[2] == 1.0  # a constant feature is harmless
    assert 0.75 < fit.validation_auc < 1.0
    assert fit.validation_from == START + timedelta(days=15) and fit.validation_to == START + timedelta(days=19)
    assert fit.train_from == START and fit.examples == 20 * 120
    assert fit.regularization_c in (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)


def test_stored_terms_reproduce_scikit_learn() -> None:
    data = examples(seed=4)
    fit = train_meta_model(data, FEATURES, trained_for=START, validation_days=5)
    x = data[list(FEATURES)].to_numpy()
    scaler = StandardScaler().fit(x)
    reference = LogisticRegression(C=fit.regularization_c, max_iter=2000).fit(scaler.transform(x), data["label"])
    np.testing.assert_allclose(fit.predict(x), reference.predict_proba(scaler.transform(x))[:, 1], atol=1e-6)


def test_strong_regularisation_wins_when_nothing_is_to_be_learnt() -> None:
    data = examples(seed=2)
    data["label"] = np.random.default_rng(7).integers(0, 2, len(data))  # labels unrelated to every feature
    fit = train_meta_model(data, FEATURES, trained_for=START, validation_days=5)
    assert fit.regularization_c <= 0.1
    assert max(abs(c) for c in fit.coefficients) < 0.1


def test_the_version_names_the_model() -> None:
    a = train_meta_model(examples(seed=1), FEATURES, trained_for=START, validation_days=5)
    again = train_meta_model(examples(seed=1), FEATURES, trained_for=START, validation_days=5)
    other = train_meta_model(examples(seed=2), FEATURES, trained_for=START, validation_days=5)
    assert a.model_version == again.model_version
    assert a.model_version != other.model_version
    assert a.model_version.startswith("meta_full_20260301_")


def test_clear_errors() -> None:
    data = examples(days=6)
    with pytest.raises(TrainingError, match="no training examples"):
        train_meta_model(data.iloc[0:0], FEATURES, trained_for=START)
    with pytest.raises(TrainingError, match="one class only"):
        train_meta_model(data.assign(label=0), FEATURES, trained_for=START)
    with pytest.raises(TrainingError, match="lack the features"):
        train_meta_model(data, ("signal", "cb_image_score"), trained_for=START)
    with pytest.raises(TrainingError, match="2 days or more"):
        train_meta_model(data[data["example_on"] == START], FEATURES, trained_for=START)
    broken = data.copy()
    broken.loc[3, "noise"] = np.nan
    with pytest.raises(TrainingError, match="noise"):
        train_meta_model(broken, FEATURES, trained_for=START)
    with pytest.raises(ValueError, match="not in meta_features"):
        MetaConfig(features=("signal",), image_features=("cb_image_score",))


def test_a_night_never_learns_from_its_evaluation_days() -> None:
    data = examples(days=20, evaluation_days=5)
    config = MetaConfig.parse(features="signal,noise,constant", image_features="noise", validation_days=4,
                              grid="0.1,1")
    table = train_night(data, START + timedelta(days=20), config).to_pandas()
    assert set(table["variant"]) == {"full", "no_image"}
    assert (pd.to_datetime(table["train_to"]).dt.date == START + timedelta(days=14)).all()
    full = table[table["variant"] == "full"]
    no_image = table[table["variant"] == "no_image"]
    assert list(full["term"]) == [INTERCEPT, "signal", "noise", "constant"]
    assert list(no_image["term"]) == [INTERCEPT, "signal", "constant"]
    assert set(table["regularization_c"]) <= {0.1, 1.0}
    # the rows are the model: rebuilt from them, the logit is the one of the fit
    fit = train_meta_model(data[~data["is_evaluation_day"]], ("signal", "noise", "constant"),
                           trained_for=START + timedelta(days=20), validation_days=4, grid=(0.1, 1.0))
    assert full["model_version"].iloc[0] == fit.model_version
    x = data[["signal", "noise", "constant"]].to_numpy()
    terms = full.set_index("term")
    logit = terms.loc[INTERCEPT, "coefficient"] + sum(
        terms.loc[f, "coefficient"] * (x[:, i] - terms.loc[f, "center"]) / terms.loc[f, "scale"]
        for i, f in enumerate(("signal", "noise", "constant"))
    )
    np.testing.assert_allclose(logit, fit.decision(x), atol=1e-9)


def test_the_variants_fitted_in_threads_are_the_fits_made_one_after_the_other() -> None:
    data = examples(days=20, evaluation_days=5)
    config = MetaConfig.parse(features="signal,noise,constant", image_features="noise", validation_days=4,
                              grid="0.01,0.1,1")
    one = train_night(data, START + timedelta(days=20), config, threads=1)
    two = train_night(data, START + timedelta(days=20), config, threads=2)
    assert one.num_rows == 7 and one.equals(two)  # rows in variant order, every value the same
