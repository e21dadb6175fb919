"""Quality of a trained head on labelled images: accuracy and confusion (single label) or P/R/F1 (multilabel).

:func:`evaluate_head` loads a model folder, reads the labelled images (by default the part of the split that the
head was *not* trained on), embeds them with the head's backbone and scores the head's probabilities with
:func:`score_predictions`:

- single label: top-1 and top-k (k = 5, or the class count if smaller) accuracy, per-class top-1 accuracy
  (recall) and the confusion matrix (rows: true class, columns: predicted class, counts);
- multilabel: precision, recall and F1, micro and macro averaged, and per label (tag) its support (images
  carrying it), predictions, true positives, precision, recall and F1, at a threshold of 0.5. A label never
  predicted has precision 0 and one with no support recall 0 in the numbers and the macro averages; the text
  table shows ``-`` for them.

The images are read with the head's mode (:func:`~vitrine.vision.transfer.datasets.read_dataset` ``mode``), so a
multilabel head trained on class folders, with or without a ``labels.csv`` of extra tags, is scored on either
layout. Labels of the images that the head does not know are listed (``unknown_labels``) and left out of the
scores; the head's labels absent from the images have support 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from vitrine.vision.backbones import Backbone
from vitrine.vision.transfer.datasets import DatasetError, Mode, Part, SplitSpec, read_dataset, split_dataset
from vitrine.vision.transfer.features import EmbeddingCache
from vitrine.vision.transfer.head import HeadLabeller

__all__ = ["DEFAULT_THRESHOLD", "EvalReport", "evaluate_head", "score_predictions"]

DEFAULT_THRESHOLD: Final = 0.5
TOP_K: Final = 5


@dataclass(frozen=True)
class EvalReport:
    """Scores of a head on a set of labelled images. Single-label fields are None in multilabel mode and
    the other way round; ``per_class`` maps a class to its counts and scores in either mode."""

    model_version: str
    mode: Mode
    classes: tuple[str, ...]
    split: str  # "all", "train" or "test" (with the seed) of the dataset that was scored
    n_images: int
    n_errors: int
    per_class: dict[str, dict[str, float]]
    top1: float | None = None
    top_k: float | None = None
    k: int | None = None
    confusion: list[list[int]] | None = None
    threshold: float | None = None
    precision_micro: float | None = None
    recall_micro: float | None = None
    f1_micro: float | None = None
    precision_macro: float | None = None
    recall_macro: float | None = None
    f1_macro: float | None = None
    unknown_labels: list[str] = field(default_factory=list)

    @property
    def top5(self) -> float | None:
        """Top-5 accuracy (top-k with k = min(5, classes))."""
        return self.top_k

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, classes as a list, the mode's fields only."""
        data: dict[str, Any] = {
            "model_version": self.model_version,
            "mode": self.mode,
            "classes": list(self.classes),
            "split": self.split,
            "n_images": self.n_images,
            "n_errors": self.n_errors,
            "per_class": self.per_class,
        }
        if self.mode == "single":
            data |= {"top1": self.top1, "top5": self.top_k, "k": self.k, "confusion": self.confusion}
        else:
            data |= {
                "threshold": self.threshold,
                "precision_micro": self.precision_micro,
                "recall_micro": self.recall_micro,
                "f1_micro": self.f1_micro,
                "precision_macro": self.precision_macro,
                "recall_macro": self.recall_macro,
                "f1_macro": self.f1_macro,
                "unknown_labels": self.unknown_labels,
            }
        return data

    def format(self) -> str:
        """A text report: headline scores, a per-class table and (single label) the confusion matrix."""
        lines = [
            f"model {self.model_version} ({self.mode} label), split {self.split}: "
            f"{self.n_images} images scored, {self.n_errors} unreadable"
        ]
        width = max([len(name) for name in self.classes] + [5])
        if self.mode == "single":
            lines.append(f"top-1 {self.top1:.3f}   top-{self.k} {self.top_k:.3f}")
            lines.append(f"{'class':<{width}}  images  top-1")
            for name in self.classes:
                row = self.per_class[name]
                accuracy = "    -" if row["images"] == 0 else f"{row['top1']:.3f}"
                lines.append(f"{name:<{width}}  {int(row['images']):>6}  {accuracy}")
            lines.append("confusion (rows: true class, columns: predicted, in class order)")
            codes = [f"{i:>3}" for i in range(len(self.classes))]
            lines.append(f"{'':<{width}}      {' '.join(codes)}")
            for i, (name, counts) in enumerate(zip(self.classes, self.confusion or [], strict=True)):
                lines.append(f"{name:<{width}} {i:>3}  {' '.join(f'{c:>3}' for c in counts)}")
        else:
            lines.append(
                f"threshold {self.threshold}: micro P {self.precision_micro:.3f} R {self.recall_micro:.3f} "
                f"F1 {self.f1_micro:.3f} | macro P {self.precision_macro:.3f} R {self.recall_macro:.3f} "
                f"F1 {self.f1_macro:.3f}"
            )
            lines.append(f"{'label':<{width}}  support  predicted  correct  precision  recall     f1")
            for name in self.classes:
                row = self.per_class[name]
                precision = f"{row['precision']:>9.3f}" if row["predicted"] else f"{'-':>9}"
                recall = f"{row['recall']:>6.3f}" if row["support"] else f"{'-':>6}"
                lines.append(
                    f"{name:<{width}}  {int(row['support']):>7}  {int(row['predicted']):>9}  {int(row['tp']):>7}"
                    f"  {precision}  {recall}  {row['f1']:>5.3f}"
                )
            if self.unknown_labels:
                lines.append(f"labels unknown to the model (ignored): {', '.join(self.unknown_labels[:20])}")
        return "\n".join(lines)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def score_predictions(
    probabilities: np.ndarray,
    targets: np.ndarray,
    classes: tuple[str, ...],
    mode: Mode,
    *,
    model_version: str = "",
    split: str = "all",
    n_errors: int = 0,
    threshold: float = DEFAULT_THRESHOLD,
    unknown_labels: list[str] | None = None,
) -> EvalReport:
    """Score ``probabilities`` ``(n, classes)`` against ``targets`` (class indices, or a 0/1 matrix)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n_classes = len(classes)
    common: dict[str, Any] = {
        "model_version": model_version,
        "mode": mode,
        "classes": classes,
        "split": split,
        "n_images": len(probabilities),
        "n_errors": n_errors,
    }
    if mode == "single":
        truth = np.asarray(targets, dtype=np.int64)
        k = min(TOP_K, n_classes)
        order = np.argsort(-probabilities, axis=1, kind="stable")
        predicted = order[:, 0] if len(order) else np.zeros(0, dtype=np.int64)
        in_top_k = np.any(order[:, :k] == truth[:, None], axis=1) if len(order) else np.zeros(0, dtype=bool)
        confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
        np.add.at(confusion, (truth, predicted), 1)
        per_class = {
            name: {
                "images": int(confusion[i].sum()),
                "top1": _ratio(confusion[i, i], confusion[i].sum()),
                "predicted": int(confusion[:, i].sum()),
            }
            for i, name in enumerate(classes)
        }
        return EvalReport(
            **common,
            per_class=per_class,
            top1=_ratio(float(np.sum(predicted == truth)), len(truth)),
            top_k=_ratio(float(np.sum(in_top_k)), len(truth)),
            k=k,
            confusion=confusion.tolist(),
        )
    truth_set = np.asarray(targets) >= 0.5
    chosen = probabilities >= threshold
    tp = np.sum(chosen & truth_set, axis=0).astype(np.float64)
    fp = np.sum(chosen & ~truth_set, axis=0).astype(np.float64)
    fn = np.sum(~chosen & truth_set, axis=0).astype(np.float64)
    precision = np.array([_ratio(t, t + f) for t, f in zip(tp, fp, strict=True)])
    recall = np.array([_ratio(t, t + f) for t, f in zip(tp, fn, strict=True)])
    f1 = np.array([_ratio(2 * p * r, p + r) for p, r in zip(precision, recall, strict=True)])
    p_micro = _ratio(tp.sum(), tp.sum() + fp.sum())
    r_micro = _ratio(tp.sum(), tp.sum() + fn.sum())
    per_class = {
        name: {
            "support": int(tp[i] + fn[i]),
            "predicted": int(tp[i] + fp[i]),
            "tp": int(tp[i]),
            "fp": int(fp[i]),
            "fn": int(fn[i]),
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
        }
        for i, name in enumerate(classes)
    }
    return EvalReport(
        **common,
        per_class=per_class,
        threshold=threshold,
        precision_micro=p_micro,
        recall_micro=r_micro,
        f1_micro=_ratio(2 * p_micro * r_micro, p_micro + r_micro),
        precision_macro=float(precision.mean()) if n_classes else 0.0,
        recall_macro=float(recall.mean()) if n_classes else 0.0,
        f1_macro=float(f1.mean()) if n_classes else 0.0,
        unknown_labels=sorted(unknown_labels or []),
    )


def evaluate_head(
    photos: str | Path,
    model: str | Path,
    *,
    split: Part | None = None,
    backbone: Backbone | None = None,
    weights: str | Path | None = None,
    class_list: str | Path | None = None,
    cache: EmbeddingCache | None = None,
    batch_size: int = 32,
    threshold: float = DEFAULT_THRESHOLD,
) -> EvalReport:
    """Score the head in the folder ``model`` on the labelled images at ``photos``.

    ``split``: None (default) scores the part the head was not trained on: ``test`` of its stored split when it
    was trained on ``train`` (and the other way round), else every image; or ``all`` / ``train`` / ``test`` of
    the split stored in the model folder. ``backbone``: an already loaded backbone of the same version; else it
    is loaded with ``weights`` / ``class_list`` or, when not given, the files recorded at training. The images are
    read in the head's mode: a multilabel head is scored on class folders too, a single-label head on a CSV whose
    images have one label each.
    """
    labeller = HeadLabeller.load(model, backbone=backbone, weights=weights, class_list=class_list)
    info = labeller.info
    stored = info.split
    spec = stored.complement() if split is None else SplitSpec(split, stored.seed, stored.test_fraction)
    try:
        dataset = read_dataset(photos, mode=info.mode)
    except DatasetError as exc:
        raise DatasetError(f"the model is {info.mode} label: {exc}") from exc
    part = split_dataset(dataset, spec)
    features, probabilities = labeller.predict(part.items(), cache=cache, batch_size=batch_size)
    scored = part.subset(features.positions)
    unknown = sorted({label for labels in scored.labels for label in labels} - set(info.classes))
    targets = scored.targets(info.classes)  # single mode: raises on a class the head does not know
    label = spec.part if spec.part == "all" else f"{spec.part} (seed {spec.seed}, test fraction {spec.test_fraction})"
    return score_predictions(
        probabilities,
        targets,
        info.classes,
        info.mode,
        model_version=info.model_version,
        split=label,
        n_errors=len(features.errors),
        threshold=threshold,
        unknown_labels=unknown,
    )
