"""Backbone embeddings of labelled images, computed once and cached by content.

:func:`embed_images` runs :func:`~vitrine.vision.labelling.label_images` (the frozen backbone as a feature
extractor: the pooled features before its classifier) on the images whose embedding is not cached yet, and
returns a :class:`Features`: the embedding matrix of the images that could be read, in input order, with their
content hashes, plus the ``errors`` frame of those that could not.

An :class:`EmbeddingCache` keys embeddings by ``(backbone model_version, content sha256)``: the same bytes
under another name or folder are not embedded twice, a changed file is. It lives in memory and, when given a
folder, in one ``<model_version>.npz`` per backbone version there (plain arrays, loaded without pickle).
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vitrine.vision.backbones import Backbone
from vitrine.vision.images import DEFAULT_MAX_PIXELS, content_hash
from vitrine.vision.labelling import ERROR_COLUMNS, LabellingResult, label_images

__all__ = ["EmbeddingCache", "Features", "embed_images"]


class EmbeddingCache:
    """Embeddings by (model_version, content hash), in memory and optionally persisted in ``folder``."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._store: dict[str, dict[str, np.ndarray]] = {}

    def _file(self, version: str) -> Path | None:
        return self.folder / f"{version}.npz" if self.folder is not None else None

    def _entries(self, version: str) -> dict[str, np.ndarray]:
        if version not in self._store:
            entries: dict[str, np.ndarray] = {}
            file = self._file(version)
            if file is not None and file.is_file():
                with np.load(file, allow_pickle=False) as data:
                    entries = dict(zip(data["hashes"].tolist(), data["embeddings"], strict=True))
            self._store[version] = entries
        return self._store[version]

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._store.values())

    def get(self, version: str, digest: str) -> np.ndarray | None:
        """The cached embedding of content ``digest`` under backbone ``version``, or None."""
        return self._entries(version).get(digest)

    def add(self, version: str, digests: Sequence[str], vectors: np.ndarray | Sequence[np.ndarray]) -> None:
        """Remember embeddings (in memory; call :meth:`save` to persist them)."""
        entries = self._entries(version)
        for digest, vector in zip(digests, vectors, strict=True):
            entries[digest] = np.asarray(vector, dtype=np.float32)

    def add_result(self, result: LabellingResult) -> None:
        """Remember every embedding of a ``label_images`` result (e.g. one computed for other purposes)."""
        frame = result.embeddings
        self.add(result.model_version, list(frame["content_hash"]), list(frame["embedding"]))

    def save(self, version: str) -> Path | None:
        """Write ``version``'s embeddings to ``folder/<version>.npz`` (atomically); None without a folder."""
        file = self._file(version)
        if file is None:
            return None
        entries = self._entries(version)
        file.parent.mkdir(parents=True, exist_ok=True)
        hashes = np.array(sorted(entries), dtype=str)
        vectors = np.stack([entries[h] for h in hashes]) if len(hashes) else np.zeros((0, 0), np.float32)
        partial = file.with_name(f".{file.name}.{os.getpid()}.tmp.npz")
        np.savez(partial, hashes=hashes, embeddings=vectors)
        partial.replace(file)
        return file


@dataclass(frozen=True)
class Features:
    """Embeddings of the readable images of an input list, in input order, and the errors of the others."""

    image_ids: tuple[Hashable, ...]
    positions: np.ndarray  # index of each embedded image in the input list
    content_hashes: tuple[str, ...]
    matrix: np.ndarray  # (images, embedding size) float32
    errors: pd.DataFrame  # image_id, content_hash, reason, detail
    model_version: str


def _digest(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return content_hash(data) if data else None


def embed_images(
    items: Sequence[tuple[Hashable, str | Path]],
    backbone: Backbone,
    *,
    cache: EmbeddingCache | None = None,
    batch_size: int = 32,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    workers: int | None = None,
) -> Features:
    """Embed ``items`` (``(image_id, path)``, ids unique) with ``backbone``, reusing and filling ``cache``."""
    pairs = [(image_id, Path(path)) for image_id, path in items]
    version = backbone.model_version
    known: dict[int, tuple[str, np.ndarray]] = {}
    todo = list(range(len(pairs)))
    if cache is not None:
        threads = workers if workers is not None else min(8, 2 * (os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            digests = list(pool.map(_digest, [path for _, path in pairs]))
        todo = []
        for index, digest in enumerate(digests):
            vector = cache.get(version, digest) if digest is not None else None
            if vector is None:
                todo.append(index)
            else:
                known[index] = (digest, vector)  # type: ignore[assignment]
    errors = pd.DataFrame(columns=list(ERROR_COLUMNS))
    if todo:
        result = label_images(
            [(index, pairs[index][1]) for index in todo],
            backbone,
            batch_size=batch_size,
            top_k=1,
            max_pixels=max_pixels,
            workers=workers,
        )
        frame = result.embeddings
        for index, digest, vector in zip(frame["image_id"], frame["content_hash"], frame["embedding"], strict=True):
            known[int(index)] = (str(digest), np.asarray(vector, dtype=np.float32))
        if cache is not None and len(frame):
            cache.add(version, list(frame["content_hash"]), list(frame["embedding"]))
            cache.save(version)
        errors = result.errors.copy()
        errors["image_id"] = pd.Series([pairs[int(i)][0] for i in errors["image_id"]], index=errors.index, dtype=object)
    positions = np.array(sorted(known), dtype=np.int64)
    size = backbone.embedding_size
    matrix = (
        np.stack([known[int(i)][1] for i in positions]).astype(np.float32)
        if len(positions)
        else np.zeros((0, size), dtype=np.float32)
    )
    return Features(
        image_ids=tuple(pairs[int(i)][0] for i in positions),
        positions=positions,
        content_hashes=tuple(known[int(i)][0] for i in positions),
        matrix=matrix,
        errors=errors.reset_index(drop=True),
        model_version=version,
    )
