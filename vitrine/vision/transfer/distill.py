"""Label distillation: learn another labeller's tags from backbone embeddings, then label the whole catalogue.

The talk's recipe for a paid labelling API: score a few thousand images with it, train a multilabel model on
the images' transfer-learning features to predict its labels, and score every other image with that model.
:func:`train_distilled` fits one scikit-learn ``LogisticRegression`` per label (one-vs-rest, on standardised
embeddings) from ``(features, label_sets)``; :class:`DistilledLabeller` predicts label probabilities, top-k
labels and thresholded label sets, and saves / loads itself with joblib. :func:`agreement` measures how well
predicted labels reproduce the reference (teacher) labels on held-out images.

The fits run with BLAS limited to one thread: on small matrices multi-threaded BLAS made them much slower
(docs/benchmarks.md). joblib files are pickles: load only files you made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

__all__ = ["DistillationAgreement", "DistilledLabeller", "agreement", "train_distilled"]

FILE_FORMAT: Final = "vitrine-distilled-labeller/1"


class DistilledLabeller:
    """A fitted one-vs-rest logistic regression over ``classes`` (the labels it can predict)."""

    def __init__(
        self,
        pipeline: Any,
        classes: Sequence[str],
        *,
        feature_version: str | None = None,
        teacher: str | None = None,
        dropped: Sequence[str] = (),
    ) -> None:
        self.pipeline = pipeline
        self.classes: tuple[str, ...] = tuple(classes)
        self.feature_version = feature_version  # the backbone model_version of the features
        self.teacher = teacher  # what produced the training labels (an API name, a model_version)
        self.dropped: tuple[str, ...] = tuple(dropped)  # labels too rare to learn

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """``(n, embedding)`` features -> ``(n, classes)`` independent label probabilities (float64)."""
        x = np.asarray(features, dtype=np.float32)
        if len(x) == 0:
            return np.zeros((0, len(self.classes)))
        return np.asarray(self.pipeline.predict_proba(x), dtype=np.float64)

    def predict_top_k(self, features: np.ndarray, k: int = 5) -> list[list[tuple[str, float]]]:
        """Per image, the ``k`` most probable (label, probability) pairs, most probable first."""
        probabilities = self.predict_proba(features)
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, : min(k, len(self.classes))]
        return [
            [(self.classes[i], float(row[i])) for i in idx] for row, idx in zip(probabilities, order, strict=True)
        ]

    def predict_label_sets(self, features: np.ndarray, threshold: float = 0.5) -> list[tuple[str, ...]]:
        """Per image, the labels whose probability is at least ``threshold``, most probable first."""
        probabilities = self.predict_proba(features)
        result = []
        for row in probabilities:
            chosen = np.flatnonzero(row >= threshold)
            result.append(tuple(self.classes[i] for i in chosen[np.argsort(-row[chosen], kind="stable")]))
        return result

    def save(self, path: str | Path) -> Path:
        """Write the labeller to ``path`` with joblib (a pickle: share it only with people who trust you)."""
        import joblib
        import sklearn

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FILE_FORMAT,
            "sklearn": sklearn.__version__,
            "classes": list(self.classes),
            "feature_version": self.feature_version,
            "teacher": self.teacher,
            "dropped": list(self.dropped),
            "pipeline": self.pipeline,
        }
        joblib.dump(payload, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> DistilledLabeller:
        """Read a file written by :meth:`save` (unpickles it: only load files you trust)."""
        import joblib

        payload = joblib.load(Path(path))
        if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
            raise ValueError(f"{path} is not a distilled labeller file")
        return cls(
            payload["pipeline"],
            payload["classes"],
            feature_version=payload.get("feature_version"),
            teacher=payload.get("teacher"),
            dropped=payload.get("dropped", ()),
        )


def train_distilled(
    features: np.ndarray,
    label_sets: Sequence[Collection[str]],
    *,
    C: float = 0.1,
    max_iter: int = 500,
    min_count: int = 2,
    n_jobs: int | None = None,
    feature_version: str | None = None,
    teacher: str | None = None,
) -> DistilledLabeller:
    """Fit ``StandardScaler -> OneVsRest(LogisticRegression(C))`` from ``features`` ``(n, d)`` to
    ``label_sets`` (the labels of each image, e.g. a paid API's tags or a model's top-5 labels).

    Labels seen on fewer than ``min_count`` images are left out (listed in ``dropped``); a label carried by
    every image would be constant and is kept (scikit-learn predicts it always).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or len(x) != len(label_sets):
        raise ValueError(f"features must be (n, d) with n = {len(label_sets)} label sets, got {x.shape}")
    counts = Counter(label for labels in label_sets for label in set(labels))
    classes = sorted(label for label, count in counts.items() if count >= min_count)
    dropped = sorted(label for label, count in counts.items() if count < min_count)
    if not classes:
        raise ValueError(f"no label is carried by {min_count} or more images")
    index = {label: i for i, label in enumerate(classes)}
    targets = np.zeros((len(x), len(classes)), dtype=np.int64)
    for row, labels in enumerate(label_sets):
        for label in labels:
            if label in index:
                targets[row, index[label]] = 1
    pipeline = make_pipeline(
        StandardScaler(),
        OneVsRestClassifier(LogisticRegression(C=C, max_iter=max_iter), n_jobs=n_jobs),
    )
    with threadpool_limits(limits=1, user_api="blas"):
        pipeline.fit(x, targets)
    return DistilledLabeller(pipeline, classes, feature_version=feature_version, teacher=teacher, dropped=dropped)


@dataclass(frozen=True)
class DistillationAgreement:
    """How far predicted labels agree with reference labels on the same images."""

    n_images: int
    k: int
    top1: float  # predicted top-1 == reference top-1 (reference sets given in rank order)
    reference_top1_in_top_k: float  # reference top-1 among the predicted top k
    overlap_at_k: float  # mean |predicted top k ∩ reference set| / k
    precision: float  # of the predicted top k, share in the reference set (micro)
    recall: float  # of the reference labels, share in the predicted top k (micro)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_images": self.n_images,
            "k": self.k,
            "top1": self.top1,
            "reference_top1_in_top_k": self.reference_top1_in_top_k,
            "overlap_at_k": self.overlap_at_k,
            "precision": self.precision,
            "recall": self.recall,
        }

    def format(self) -> str:
        return (
            f"{self.n_images} images: top-1 agreement {self.top1:.3f}, reference top-1 in predicted top-{self.k} "
            f"{self.reference_top1_in_top_k:.3f}, overlap@{self.k} {self.overlap_at_k:.3f}, "
            f"precision {self.precision:.3f}, recall {self.recall:.3f}"
        )


def agreement(
    predicted: Sequence[Sequence[str]], reference: Sequence[Sequence[str]], k: int = 5
) -> DistillationAgreement:
    """Compare per-image predicted label lists (most probable first) with reference label lists (in rank
    order, e.g. the teacher's top 5): only the first ``k`` predictions count."""
    if len(predicted) != len(reference):
        raise ValueError("predicted and reference differ in length")
    n = len(predicted)
    if n == 0:
        return DistillationAgreement(0, k, 0.0, 0.0, 0.0, 0.0, 0.0)
    top1 = in_top_k = overlap = hits = predicted_total = reference_total = 0.0
    for guess, truth in zip(predicted, reference, strict=True):
        top = list(guess)[:k]
        truth_set = set(truth)
        common = len(set(top) & truth_set)
        top1 += float(bool(top) and bool(truth) and top[0] == truth[0])
        in_top_k += float(bool(truth) and truth[0] in top)
        overlap += common / k
        hits += common
        predicted_total += len(top)
        reference_total += len(truth_set)
    return DistillationAgreement(
        n_images=n,
        k=k,
        top1=top1 / n,
        reference_top1_in_top_k=in_top_k / n,
        overlap_at_k=overlap / n,
        precision=hits / predicted_total if predicted_total else 0.0,
        recall=hits / reference_total if reference_total else 0.0,
    )
