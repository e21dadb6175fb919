"""The image steps of the dbt project: the thin files in python_models/ call these.

- :func:`image_files`: every catalogue image's file, hashed (sha256 of its bytes), or why it could not be read.
- :func:`label_new_content`: labels the contents (hashes) that the current model version has not labelled yet,
  one row per content: top-5 labels, the pooled embedding, or the reason it failed.

Labelling is keyed by content, not by image id: the same photo used by several sales is labelled once, a changed
file (new hash) is labelled again, an unchanged one never; a new model version labels everything once more.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from vitrine.vision.backbones import DEFAULT_BACKBONE, default_efficientnet_weights, model_version
from vitrine.vision.images import DEFAULT_MAX_PIXELS

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
            batch_size=int(get("image_batch_size") or 32),
            max_pixels=int(get("image_max_pixels") or DEFAULT_MAX_PIXELS),
        )

    def model_version(self) -> str:
        """backbone + hash of its weights file, without loading the network."""
        if self.weights is not None:
            return model_version(self.backbone, self.weights)
        if self.backbone == "efficientnet_lite0":
            return model_version(self.backbone, default_efficientnet_weights())
        raise ValueError(f"backbone {self.backbone!r} needs a weights file: set the dbt var image_weights")


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


def label_new_content(
    files: pd.DataFrame, done: pd.DataFrame | None, config: LabellingConfig, *, now: datetime | None = None
) -> pa.Table:
    """Label the contents of `files` that `done` (content_hash, model_version) does not hold yet."""
    todo = contents_to_label(files, done)
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None)
    if not todo:
        return INFERENCE_SCHEMA.empty_table()
    from vitrine.vision.labelling import label_images  # imports Keras: only when there is work

    result = label_images(
        todo, config.backbone, weights=config.weights, class_list=config.class_list,
        batch_size=config.batch_size, top_k=TOP_LABELS, max_pixels=config.max_pixels,
    )
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
