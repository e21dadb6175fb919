"""Batched image labelling: top-k labels, pooled embeddings and classified errors for a list of images.

:func:`label_images` takes ``(image_id, path)`` pairs and a backbone (a name, loaded here, or a loaded
:class:`~vitrine.vision.backbones.Backbone`), decodes the files on a few threads, runs the network on batches
of ``batch_size`` and returns a :class:`LabellingResult` of three pandas DataFrames:

- ``labels``: image_id, content_hash, model_version, rank (1..top_k), label, probability
- ``embeddings``: image_id, content_hash, model_version, embedding (float32 numpy vector per row)
- ``errors``: image_id, content_hash (None when the bytes could not be read), reason, detail

Every input image lands in exactly one of ``embeddings`` (and then ``labels``) or ``errors``; a bad file is a
row in ``errors``, never an exception. Inference runs wherever the Keras backend places it (a GPU when the
backend sees one).
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from vitrine.progress import progress
from vitrine.vision.backbones import DEFAULT_BACKBONE, Backbone, load_backbone
from vitrine.vision.images import DEFAULT_MAX_PIXELS, LoadedImage, load_image

__all__ = [
    "EMBEDDING_COLUMNS",
    "ERROR_COLUMNS",
    "LABEL_COLUMNS",
    "LabellingResult",
    "label_images",
    "top_k_labels",
]

LABEL_COLUMNS: Final = ("image_id", "content_hash", "model_version", "rank", "label", "probability")
EMBEDDING_COLUMNS: Final = ("image_id", "content_hash", "model_version", "embedding")
ERROR_COLUMNS: Final = ("image_id", "content_hash", "reason", "detail")


@dataclass(frozen=True)
class LabellingResult:
    """The three outputs of :func:`label_images` plus the model version they were made with."""

    labels: pd.DataFrame
    embeddings: pd.DataFrame
    errors: pd.DataFrame
    model_version: str

    def embedding_matrix(self) -> np.ndarray:
        """The embeddings stacked as an ``(images, dims)`` float32 array, in ``embeddings`` row order."""
        if self.embeddings.empty:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(list(self.embeddings["embedding"])).astype(np.float32)


def top_k_labels(
    probabilities: np.ndarray, class_names: Sequence[str], k: int
) -> list[list[tuple[str, float]]]:
    """Per row, the ``k`` most probable (label, probability) pairs, most probable first."""
    k = min(k, probabilities.shape[1])
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [
        [(class_names[i], float(row[i])) for i in idx] for row, idx in zip(probabilities, order, strict=True)
    ]


def validated_items(
    images: Iterable[tuple[Hashable, str | Path]], top_k: int
) -> list[tuple[Hashable, Path]]:
    """The ``(image_id, path)`` pairs as a list, checked: ids unique, ``top_k`` >= 1."""
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    items = [(image_id, Path(path)) for image_id, path in images]
    if len({image_id for image_id, _ in items}) != len(items):
        raise ValueError("image ids must be unique")
    return items


def _batches(items: Sequence[tuple[Hashable, Path]], size: int) -> Iterator[Sequence[tuple[Hashable, Path]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def label_images(
    images: Iterable[tuple[Hashable, str | Path]],
    backbone: str | Backbone = DEFAULT_BACKBONE,
    *,
    weights: str | Path | None = None,
    class_list: str | Path | None = None,
    batch_size: int = 32,
    top_k: int = 5,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    workers: int | None = None,
) -> LabellingResult:
    """Label ``images`` (``(image_id, path)`` pairs, ids unique) with ``backbone``.

    ``backbone`` is a name (``efficientnet_lite0``, ``vgg16``; then ``weights`` and ``class_list`` are passed
    to :func:`~vitrine.vision.backbones.load_backbone`) or an already loaded backbone (load it once and reuse
    it across calls). ``workers`` threads decode images (default: up to 4, by CPU count).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    items = validated_items(images, top_k)
    net = backbone if isinstance(backbone, Backbone) else load_backbone(backbone, weights, class_list)
    version = net.model_version
    label_rows: list[tuple[object, ...]] = []
    embedding_rows: list[tuple[object, ...]] = []
    error_rows: list[tuple[object, ...]] = []

    def load(item: tuple[Hashable, Path]) -> LoadedImage:
        return load_image(item[1], net.image_size, net.crop_fraction, max_pixels=max_pixels)

    threads = workers if workers is not None else min(4, os.cpu_count() or 1)
    with (
        ThreadPoolExecutor(max_workers=max(1, threads)) as pool,
        progress("label images", total=len(items), unit="images") as tracker,
    ):
        for batch in _batches(items, batch_size):
            tracker.advance(len(batch))
            loaded = list(pool.map(load, batch))
            good = [
                (item, image) for item, image in zip(batch, loaded, strict=True) if image.pixels is not None
            ]
            for (image_id, _), image in zip(batch, loaded, strict=True):
                if image.pixels is None:
                    error_rows.append((image_id, image.content_hash, image.reason, image.detail))
            if not good:
                continue
            pixels = np.stack([image.pixels for _, image in good if image.pixels is not None])
            embeddings, probabilities = net.predict(pixels)
            tops = top_k_labels(probabilities, net.class_names, top_k)
            for ((image_id, _), image), vector, top in zip(good, embeddings, tops, strict=True):
                embedding_rows.append((image_id, image.content_hash, version, vector))
                for rank, (label, probability) in enumerate(top, start=1):
                    label_rows.append((image_id, image.content_hash, version, rank, label, probability))
    labels = pd.DataFrame(label_rows, columns=list(LABEL_COLUMNS))
    labels["rank"] = labels["rank"].astype("int64")
    labels["probability"] = labels["probability"].astype("float64")
    return LabellingResult(
        labels=labels,
        embeddings=pd.DataFrame(embedding_rows, columns=list(EMBEDDING_COLUMNS)),
        errors=pd.DataFrame(error_rows, columns=list(ERROR_COLUMNS)),
        model_version=version,
    )
