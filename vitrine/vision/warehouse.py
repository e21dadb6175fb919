"""The image steps of the dbt project: the thin files in python_models/ call these.

- :func:`image_files`: every catalogue image's file, hashed (sha256 of its bytes), or why it could not be read,
  with the model versions that label images tonight.
- :func:`label_new_content`: labels the contents (hashes) that tonight's model versions have not labelled yet,
  one row per content and model version: top-5 labels, the pooled embedding, or the reason it failed.

Labelling is keyed by content and model version, not by image id: the same photo used by several sales is labelled
once, a changed file (new hash) is labelled again, an unchanged one never; a new model version labels everything
once more.

Two label sources: the backbone's own classifier (ImageNet or Places365 classes, ``model_version`` = backbone +
weights hash) always labels; when the dbt var ``image_head`` names a model folder written by ``vitrine transfer
train``, that trained head on the same backbone labels too, with its own classes (scenes) and its own
``model_version`` (``<backbone version>+head-<hash of the head file>``), so a new head relabels everything once and
the same head nothing. Both run on one backbone pass: the head reads the pooled embeddings the backbone computes
in the same night, or those the warehouse already holds for that backbone version.
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

from vitrine.vision.backbones import DEFAULT_BACKBONE, PACKAGED_WEIGHTS, model_version, packaged_weights
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
        ("head_model_version", pa.string()),
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
    head: str | None = None  # a model folder of `vitrine transfer train`: its head labels too, on this backbone
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
        if self.backbone in PACKAGED_WEIGHTS:
            return model_version(self.backbone, packaged_weights(self.backbone))
        raise ValueError(f"backbone {self.backbone!r} needs a weights file: set the dbt var image_weights")

    def head_version(self) -> str | None:
        """The trained head's version (checked to be a trained head folder on this very backbone), or None
        without a head."""
        return None if self.head is None else self.head_info().model_version

    def model_version(self) -> str:
        """The version whose labels are tonight's tags (themes, tag marts), without loading a network: the
        head's when ``head`` is set, else the backbone's."""
        return self.head_version() or self.backbone_version()

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
    version = config.backbone_version()
    head_version = config.head_version()
    return pa.table(
        {
            "image_id": pa.array(images["image_id"].astype("int64"), pa.int64()),
            "image_path": pa.array(paths, pa.string()),
            "content_hash": pa.array([h for h, _, _ in hashed], pa.string()),
            "file_bytes": pa.array([n for _, n, _ in hashed], pa.int64()),
            "file_error": pa.array([e for _, _, e in hashed], pa.string()),
            "model_version": pa.array([version] * len(paths), pa.string()),
            "head_model_version": pa.array([head_version] * len(paths), pa.string()),
        },
        schema=FILES_SCHEMA,
    )


VERSION_COLUMNS = ("model_version", "head_model_version")
"""The columns of the files table that name a model version to label with (the backbone's, the head's)."""


def contents_to_label(
    files: pd.DataFrame, done: pd.DataFrame | None, version_column: str = "model_version"
) -> list[tuple[str, str]]:
    """(content_hash, a path holding it) for each readable content not yet labelled by the model version in
    ``version_column`` of the files (none when the files lack that column or it is null)."""
    if version_column not in files.columns:
        return []
    readable = files[files["content_hash"].notna() & files[version_column].notna()]
    firsts = readable.sort_values(["content_hash", "image_id"]).drop_duplicates("content_hash")
    if done is not None and not done.empty:
        labelled = set(zip(done["content_hash"], done["model_version"], strict=True))
        firsts = firsts[[(h, v) not in labelled for h, v in zip(firsts["content_hash"], firsts[version_column],
                                                                  strict=True)]]
    return list(zip(firsts["content_hash"], firsts["image_path"], strict=True))


def versions_to_label(files: pd.DataFrame, done: pd.DataFrame | None) -> dict[str, list[tuple[str, str]]]:
    """Each model version the files name (backbone's first, then the head's) -> the contents it has not labelled
    yet, as (content_hash, path); versions with nothing to do are left out."""
    todo: dict[str, list[tuple[str, str]]] = {}
    for column in VERSION_COLUMNS:
        if column not in files.columns:
            continue
        for version in sorted(files[column].dropna().unique()):
            contents = contents_to_label(files[files[column] == version], done, column)
            if contents:
                todo.setdefault(str(version), []).extend(contents)
    return todo


StoredEmbeddings = Callable[[Sequence[str], str], pd.DataFrame]
"""(content hashes, backbone version) -> the embeddings the warehouse holds for them (content_hash, embedding)."""


def stored_embeddings(session: Any, table: str) -> StoredEmbeddings:
    """A :data:`StoredEmbeddings` reading ``table`` (int_image_inference) on a DuckDB connection or a Spark session:
    the embeddings of the given contents made by that backbone version, alone or under one of its heads."""
    from vitrine.frames import is_spark

    def read_spark(hashes: Sequence[str], backbone_version: str) -> pd.DataFrame:
        from pyspark.sql import functions as F

        version = F.col("model_version")
        rows = (session.table(table)
                .where((F.col("status") == "labelled")
                       & ((version == backbone_version) | version.startswith(f"{backbone_version}+head-")))
                .select("content_hash", "embedding")
                .dropDuplicates(["content_hash"])
                .toPandas())
        return rows[rows["content_hash"].isin(list(hashes))].reset_index(drop=True)

    if is_spark(session):
        return read_spark

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


class _Labellers:
    """The networks of ``config``, loaded once and only when there is work: the backbone (its pretrained
    classifier) and, on it, the trained head."""

    def __init__(self, config: LabellingConfig) -> None:
        self.config = config
        self._backbone: Any = None
        self._head: Any = None

    def backbone(self) -> Any:
        from vitrine.vision.backbones import load_backbone

        if self._backbone is None:
            c = self.config
            self._backbone = load_backbone(c.backbone, c.weights, c.class_list)
        return self._backbone

    def head(self) -> Any:
        from vitrine.vision.transfer.head import HeadLabeller

        if self._head is None:
            self.config.head_info()  # a clear error before any network is loaded
            self._head = HeadLabeller.load(self.config.head, backbone=self.backbone())
        return self._head


def _rows(result: LabellingResult, todo: list[tuple[str, str]], stamp: datetime) -> list[dict[str, Any]]:
    """One INFERENCE_SCHEMA row per content of ``todo`` from a labelling result keyed by content hash."""
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
    out = []
    for content, _ in todo:
        row = rows[content]
        row.update(content_hash=content, model_version=result.model_version, labelled_at=stamp)
        out.append(row)
    return out


def label_new_content(
    files: pd.DataFrame,
    done: pd.DataFrame | None,
    config: LabellingConfig,
    *,
    now: datetime | None = None,
    stored: StoredEmbeddings | None = None,
) -> pa.Table:
    """Label the contents of `files` that `done` (content_hash, model_version) does not hold yet, under each model
    version the files name (``model_version``: the backbone's; ``head_model_version``: the trained head's).

    The backbone's version is labelled by its pretrained classifier, the head's by ``config.head`` on the
    embeddings the backbone computes here, or those ``stored`` gives (the warehouse's, for the contents labelled
    on earlier nights): those contents go through the head only.
    """
    todo = versions_to_label(files, done)
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None)
    if not todo:
        return INFERENCE_SCHEMA.empty_table()
    from vitrine.vision.labelling import label_images  # imports Keras: only when there is work
    from vitrine.vision.transfer.features import EmbeddingCache

    head_version = config.head_version()
    backbone_version = config.backbone_version()
    nets = _Labellers(config)
    options: dict[str, Any] = {"batch_size": config.batch_size, "top_k": TOP_LABELS, "max_pixels": config.max_pixels}
    cache = EmbeddingCache()  # in memory: tonight's backbone embeddings, for the head
    rows: list[dict[str, Any]] = []
    for version, contents in sorted(todo.items(), key=lambda item: item[0] == head_version):
        if version == head_version:
            if stored is not None:
                missing = [c for c, _ in contents if cache.get(backbone_version, c) is None]
                known = stored(missing, backbone_version)
                cache.add(backbone_version, list(known["content_hash"]),
                          [np.asarray(v, dtype=np.float32) for v in known["embedding"]])
            result = nets.head().label_images(contents, cache=cache, **options)
        elif version == backbone_version:
            result = label_images(contents, nets.backbone(), **options)
            cache.add_result(result)
        else:
            raise ValueError(
                f"int_image_files names model version {version}, but the build labels with {backbone_version}"
                + (f" and {head_version}" if head_version else "")
            )
        rows.extend(_rows(result, contents, stamp))
    columns: dict[str, list[Any]] = {name: [row.get(name) for row in rows] for name in INFERENCE_SCHEMA.names}
    return pa.table(columns, schema=INFERENCE_SCHEMA)
