"""The image steps of the dbt project: the thin files in python_models/ call these.

- :func:`image_files`: every catalogue image's file, hashed (sha256 of its bytes), or why it could not be read.
- :func:`label_new_content`: labels the contents (hashes) that the current model version has not labelled yet,
  one row per content: top-5 labels, the pooled embedding, or the reason it failed.

Labelling is keyed by content, not by image id: the same photo used by several sales is labelled once, a changed
file (new hash) is labelled again, an unchanged one never; a new model version labels everything once more.

The labelling model is the backbone's own classifier (ImageNet or Places365 classes), or, when the dbt var
``image_head`` names a model folder written by ``vitrine transfer train``, that trained head on the same backbone:
its own classes, and its ``model_version`` (``<backbone version>+head-<hash of the head file>``), so a new head
relabels everything once and the same head nothing. The embeddings stay the backbone's pooled features; those the
warehouse already holds for the same backbone version (e.g. from the pretrained labelling) are reused, so
switching to a head runs only the head on contents embedded before.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from vitrine.vision.backbones import DEFAULT_BACKBONE, default_efficientnet_weights, model_version
from vitrine.vision.images import DEFAULT_MAX_PIXELS

if TYPE_CHECKING:
    from vitrine.vision.labelling import LabellingResult
    from vitrine.vision.transfer.head import HeadInfo

TOP_LABELS = 5

FILES_SCHEMA = pa.schema(
    [
        ("image_id", pa.int64()),
        ("image_path", pa.string()),
        ("content_hash", pa.string()),
        ("file_bytes", pa.int64()),
        ("file_error", pa.string()),
        ("model_version", pa.string()),
    ]
)

INFERENCE_SCHEMA = pa.schema(
    [
        ("content_hash", pa.string()),
        ("model_version", pa.string()),
        ("status", pa.string()),  # labelled | failed
        *[(f"label_{k}", pa.string()) for k in range(1, TOP_LABELS + 1)],
        *[(f"probability_{k}", pa.float64()) for k in range(1, TOP_LABELS + 1)],
        ("embedding", pa.list_(pa.float32())),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("labelled_at", pa.timestamp("us")),
    ]
)


@dataclass(frozen=True)
class LabellingConfig:
    """Which model labels the images, from the dbt vars (an empty string means "not set")."""

    backbone: str = DEFAULT_BACKBONE
    weights: str | None = None
    class_list: str | None = None
    head: str | None = None  # a model folder of `vitrine transfer train`: its head labels, on this backbone
    batch_size: int = 32
    max_pixels: int = DEFAULT_MAX_PIXELS

    @classmethod
    def from_dbt_config(cls, get: Callable[[str], Any]) -> LabellingConfig:
        """Read the model's config values (set from vars in python_models/_python_models.yml)."""

        def text(key: str) -> str | None:
            value = get(key)
            return str(value) if value not in (None, "", "None") else None

        return cls(
            backbone=text("image_backbone") or DEFAULT_BACKBONE,
            weights=text("image_weights"),
            class_list=text("image_class_list"),
            head=text("image_head"),
            batch_size=int(get("image_batch_size") or 32),
            max_pixels=int(get("image_max_pixels") or DEFAULT_MAX_PIXELS),
        )

    def backbone_version(self) -> str:
        """backbone + hash of its weights file, without loading the network."""
        if self.weights is not None:
            return model_version(self.backbone, self.weights)
        if self.backbone == "efficientnet_lite0":
            return model_version(self.backbone, default_efficientnet_weights())
        raise ValueError(f"backbone {self.backbone!r} needs a weights file: set the dbt var image_weights")

    def model_version(self) -> str:
        """The labelling model's version without loading it: the head's when ``head`` is set (checked to be a
        trained head folder on this very backbone), else the backbone's."""
        if self.head is None:
            return self.backbone_version()
        return self.head_info().model_version

    def head_info(self) -> HeadInfo:
        """The ``model.json`` of ``head``, checked against this backbone (:class:`HeadError` if it does not fit)."""
        from vitrine.vision.transfer.head import HeadError, read_head_info

        if self.head is None:
            raise HeadError("no head configured (dbt var image_head / VITRINE_IMAGE_HEAD)")
        folder = Path(self.head)
        if not folder.is_dir():
            raise HeadError(f"image_head {self.head}: no such folder (give a model folder of vitrine transfer train)")
        info = read_head_info(folder)
        backbone = self.backbone_version()
        if info.backbone_version != backbone:
            raise HeadError(
                f"image_head {self.head} was trained on backbone {info.backbone_version}, but images are labelled "
                f"with {backbone}: set image_backbone / image_weights (VITRINE_IMAGE_BACKBONE / "
                f"VITRINE_IMAGE_WEIGHTS) to the head's backbone, or train a head on this one"
            )
        return info


def _hash_file(path: str | None) -> tuple[str | None, int | None, str | None]:
    if path is None:
        return None, None, "no_image_root"
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None, None, "missing_file"
    except OSError as exc:
        return None, None, f"unreadable_file: {exc.strerror or exc}"
    if not data:
        return None, 0, "empty_file"
    return hashlib.sha256(data).hexdigest(), len(data), None


def image_files(images: pd.DataFrame, config: LabellingConfig, *, workers: int | None = None) -> pa.Table:
    """Hash each image's file. `images` has image_id and image_path (absolute, or null without an image root)."""
    paths = [None if pd.isna(p) else str(p) for p in images["image_path"]]
    threads = workers or min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        hashed = list(pool.map(_hash_file, paths))
    version = config.model_version()
    return pa.table(
        {
            "image_id": pa.array(images["image_id"].astype("int64"), pa.int64()),
            "image_path": pa.array(paths, pa.string()),
            "content_hash": pa.array([h for h, _, _ in hashed], pa.string()),
            "file_bytes": pa.array([n for _, n, _ in hashed], pa.int64()),
            "file_error": pa.array([e for _, _, e in hashed], pa.string()),
            "model_version": pa.array([version] * len(paths), pa.string()),
        },
        schema=FILES_SCHEMA,
    )


def contents_to_label(files: pd.DataFrame, done: pd.DataFrame | None) -> list[tuple[str, str]]:
    """(content_hash, a path holding it) for each readable content not yet labelled by the files' model version."""
    readable = files[files["content_hash"].notna()].sort_values(["content_hash", "image_id"])
    firsts = readable.drop_duplicates("content_hash")
    if done is not None and not done.empty:
        labelled = set(zip(done["content_hash"], done["model_version"], strict=True))
        firsts = firsts[[(h, v) not in labelled for h, v in zip(firsts["content_hash"], firsts["model_version"],
                                                                  strict=True)]]
    return list(zip(firsts["content_hash"], firsts["image_path"], strict=True))


StoredEmbeddings = Callable[[Sequence[str], str], pd.DataFrame]
"""(content hashes, backbone version) -> the embeddings the warehouse holds for them (content_hash, embedding)."""


def stored_embeddings(session: Any, table: str) -> StoredEmbeddings:
    """A :data:`StoredEmbeddings` reading ``table`` (int_image_inference) on a DuckDB connection: the embeddings
    of the given contents made by that backbone version, alone or under one of its heads."""

    def read(hashes: Sequence[str], backbone_version: str) -> pd.DataFrame:
        wanted = pd.DataFrame({"content_hash": list(hashes)})
        name = "vitrine_wanted_contents"
        session.register(name, wanted)
        try:
            return session.execute(
                f"select distinct on (i.content_hash) i.content_hash, i.embedding from {table} as i "
                f"inner join {name} as w on w.content_hash = i.content_hash "
                "where i.status = 'labelled' and (i.model_version = ? or starts_with(i.model_version, ?))",
                [backbone_version, f"{backbone_version}+head-"],
            ).df()
        finally:
            session.unregister(name)

    return read


def _labeller(config: LabellingConfig) -> Callable[..., LabellingResult]:
    """The labelling function of ``config``: the backbone's ``label_images``, or its trained head's."""
    from vitrine.vision.labelling import label_images

    if config.head is None:
        return lambda todo, **kw: label_images(
            todo, config.backbone, weights=config.weights, class_list=config.class_list, **kw
        )
    from vitrine.vision.transfer.head import HeadLabeller

    config.head_info()  # a clear error before any network is loaded
    return HeadLabeller.load(config.head, weights=config.weights, class_list=config.class_list).label_images


def label_new_content(
    files: pd.DataFrame,
    done: pd.DataFrame | None,
    config: LabellingConfig,
    *,
    now: datetime | None = None,
    stored: StoredEmbeddings | None = None,
) -> pa.Table:
    """Label the contents of `files` that `done` (content_hash, model_version) does not hold yet.

    With a head (``config.head``), ``stored`` gives the backbone embeddings the warehouse already has: those
    contents skip the backbone and go through the head only.
    """
    todo = contents_to_label(files, done)
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None)
    if not todo:
        return INFERENCE_SCHEMA.empty_table()
    label = _labeller(config)  # imports Keras: only when there is work
    options: dict[str, Any] = {"batch_size": config.batch_size, "top_k": TOP_LABELS, "max_pixels": config.max_pixels}
    if config.head is not None and stored is not None:
        from vitrine.vision.transfer.features import EmbeddingCache

        backbone = config.backbone_version()
        known = stored([content for content, _ in todo], backbone)
        cache = EmbeddingCache()
        cache.add(backbone, list(known["content_hash"]), [np.asarray(v, dtype=np.float32) for v in known["embedding"]])
        options["cache"] = cache
    result = label(todo, **options)
    rows: dict[str, dict[str, Any]] = {}
    for content, group in result.labels.groupby("image_id", sort=False):
        ordered = group.sort_values("rank")
        row: dict[str, Any] = {"status": "labelled", "reason": None, "detail": None}
        for k in range(1, TOP_LABELS + 1):
            row[f"label_{k}"] = ordered["label"].iloc[k - 1] if k <= len(ordered) else None
            row[f"probability_{k}"] = float(ordered["probability"].iloc[k - 1]) if k <= len(ordered) else None
        rows[str(content)] = row
    for content, vector in zip(result.embeddings["image_id"], result.embeddings["embedding"], strict=True):
        rows[str(content)]["embedding"] = [float(x) for x in vector]
    for content, reason, detail in zip(result.errors["image_id"], result.errors["reason"], result.errors["detail"],
                                       strict=True):
        rows[str(content)] = {"status": "failed", "reason": reason, "detail": detail}
    columns: dict[str, list[Any]] = {name: [] for name in INFERENCE_SCHEMA.names}
    for content, _ in todo:
        row = rows[content]
        row.update(content_hash=content, model_version=result.model_version, labelled_at=stamp)
        for name in INFERENCE_SCHEMA.names:
            columns[name].append(row.get(name))
    return pa.table(columns, schema=INFERENCE_SCHEMA)
