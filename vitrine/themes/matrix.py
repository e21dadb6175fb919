"""The image x tag matrix that NMF factorises, built from the CNN's top-5 label rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer

Weighting = Literal["probability", "tfidf"]
WEIGHTINGS: tuple[str, ...] = ("probability", "tfidf")


@dataclass(frozen=True)
class TagMatrix:
    """Rows are images (sorted ids), columns tags (sorted names), values the label weights."""

    image_ids: np.ndarray
    tags: tuple[str, ...]
    values: sparse.csr_matrix

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape


def tag_matrix(labels: pd.DataFrame, weighting: str = "tfidf") -> TagMatrix:
    """X[image, tag] from rows (image_id, label, probability).

    probability: the label's probability as is (a confident label weighs more).
    tfidf:       the probabilities times the tag's smoothed inverse document frequency, rows L2-normalised
                 (scikit-learn's TfidfTransformer), so that tags on every photo ("seashore" in a beach catalogue)
                 weigh less than the ones that tell photos apart.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown theme weighting {weighting!r}; expected one of {WEIGHTINGS}")
    missing = {"image_id", "label", "probability"} - set(labels.columns)
    if missing:
        raise ValueError(f"label rows lack columns {sorted(missing)}")
    rows = labels[["image_id", "label", "probability"]].dropna()
    if (rows["probability"] < 0).any():
        raise ValueError("label probabilities must be non-negative")
    # the same label twice for an image (two classes that share a display name) adds up
    rows = rows.groupby(["image_id", "label"], as_index=False, sort=True)["probability"].sum()
    image_ids, row_index = np.unique(rows["image_id"].to_numpy(), return_inverse=True)
    tags, col_index = np.unique(rows["label"].astype(str).to_numpy(), return_inverse=True)
    values = sparse.csr_matrix(
        (rows["probability"].to_numpy(dtype=np.float64), (row_index, col_index)),
        shape=(len(image_ids), len(tags)),
    )
    if weighting == "tfidf" and values.shape[0] > 0:
        values = TfidfTransformer(norm="l2", smooth_idf=True).fit_transform(values).tocsr()
    return TagMatrix(image_ids=image_ids, tags=tuple(str(t) for t in tags), values=values)
