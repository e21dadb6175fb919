"""Fine-tuning the last blocks of an EfficientNet-Lite backbone, within a CPU's budget.

Training every layer of a CNN costs a forward and a backward pass through the whole network for every photo in
every epoch. Here the network is cut in two at block ``B - N`` (``B`` blocks, ``N`` = ``fine_tune_blocks``):

- the **trunk** (stem and the first ``B - N`` blocks) stays frozen. It runs once for each of ``views`` versions
  of every training photo: the labelling crop, its mirror image and augmented views (random resized crops,
  flips, colour jitter: :mod:`~vitrine.vision.transfer.augment`). Its feature maps are kept in memory (float16);
- the **top** (the last ``N`` blocks, the head convolution, the global average, dropout and a new classifier)
  is trained on them, each epoch reading one randomly drawn view of every photo. BatchNorm layers keep their
  ImageNet statistics and scales (inference mode), as is usual when fine-tuning on a few thousand photos.
  AdamW with a warm-up and a cosine decay of the learning rate; early stopping on the validation loss restores
  the best epoch.

The top is saved as the head (its input is the trunk's feature map); :class:`~vitrine.vision.transfer.head.
HeadLabeller` joins it to the trunk again to label photos in one pass that also yields the backbone's own
pooled embedding.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from vitrine.progress import progress
from vitrine.vision.backbones import Backbone
from vitrine.vision.images import DEFAULT_MAX_PIXELS, LoadedImage, load_image
from vitrine.vision.labelling import ERROR_COLUMNS
from vitrine.vision.transfer.augment import Augmentation, augment
from vitrine.vision.transfer.datasets import Mode

if TYPE_CHECKING:
    import keras

__all__ = [
    "DEFAULT_FINE_TUNE_BLOCKS",
    "FINE_TUNABLE",
    "FineTuneParams",
    "ViewFeatures",
    "build_fine_tune_model",
    "first_trained_block",
    "joined_model",
    "trunk_model",
    "view_features",
]

FINE_TUNABLE: Final = ("efficientnet_lite0", "efficientnet_lite2")
DEFAULT_FINE_TUNE_BLOCKS: Final = 0  # what `vitrine transfer train` does unless told (docs/benchmarks.md: why)


@dataclass(frozen=True)
class FineTuneParams:
    """What is trained and how (the defaults are the ones `vitrine transfer train` uses)."""

    blocks: int = 2  # the last MBConv blocks trained with the head convolution and the classifier
    views: int = 4  # versions of each training photo through the trunk: crop, mirror, then augmented ones
    learning_rate: float = 3e-4  # peak, reached after the warm-up
    warmup_epochs: int = 1
    weight_decay: float = 0.05
    dropout: float = 0.5
    patience: int = 4
    augmentation: Augmentation = field(default_factory=Augmentation)


def first_trained_block(backbone: Backbone, blocks: int) -> int:
    """The index of the first block trained when the last ``blocks`` are (checked against the network)."""
    from vitrine.vision.efficientnet_lite import block_count

    if backbone.name not in FINE_TUNABLE:
        raise ValueError(f"fine-tuning supports {', '.join(FINE_TUNABLE)}, not {backbone.name}")
    total = block_count(backbone.name)
    if not 1 <= blocks < total:
        raise ValueError(f"fine_tune_blocks must be between 1 and {total - 1} for {backbone.name}, got {blocks}")
    return total - blocks


def trunk_model(backbone: Backbone, first_block: int) -> keras.Model:
    """The frozen part: photo -> [the backbone's pooled embedding, the feature map block ``first_block`` reads]."""
    import keras

    from vitrine.vision.efficientnet_lite import block_output_layer

    net = backbone.model
    layer = block_output_layer(backbone.name, first_block - 1)
    return keras.Model(net.input, [net.get_layer("embedding").output, net.get_layer(layer).output], name="trunk")


def build_fine_tune_model(
    backbone: Backbone, first_block: int, n_classes: int, mode: Mode, params: FineTuneParams, steps: int
) -> keras.Model:
    """The top (blocks ``first_block``.., head convolution, pooling; weights copied from ``backbone``), dropout
    and a new classifier, compiled with AdamW over a warm-up and cosine schedule of ``steps`` batches."""
    import keras

    from vitrine.vision.efficientnet_lite import build_top

    shape = tuple(int(d) for d in trunk_model(backbone, first_block).outputs[1].shape[1:])
    top = build_top(backbone.name, first_block, shape)  # type: ignore[arg-type]
    for layer in top.layers:
        if layer.weights:
            layer.set_weights(backbone.model.get_layer(layer.name).get_weights())
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    x = keras.layers.Dropout(params.dropout, name="dropout")(top.output)
    activation = "softmax" if mode == "single" else "sigmoid"
    outputs = keras.layers.Dense(n_classes, activation=activation, name="probabilities")(x)
    model = keras.Model(top.input, outputs, name="fine_tuned_head")
    warmup = min(steps // 2, max(0, params.warmup_epochs) * max(1, steps // 10))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=params.learning_rate / 10 if warmup else params.learning_rate,
        decay_steps=max(1, steps - warmup),
        warmup_target=params.learning_rate if warmup else None,
        warmup_steps=warmup,
    )
    loss = "sparse_categorical_crossentropy" if mode == "single" else "binary_crossentropy"
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=params.weight_decay), loss=loss)
    return model


def joined_model(backbone: Backbone, head: keras.Model, first_block: int) -> keras.Model:
    """Photo -> [the backbone's pooled embedding, the fine-tuned head's probabilities], in one pass."""
    import keras

    trunk = trunk_model(backbone, first_block)
    embedding, features = trunk.outputs
    return keras.Model(trunk.input, [embedding, head(features)], name="fine_tuned")


@dataclass(frozen=True)
class ViewFeatures:
    """The trunk's feature maps of ``views`` versions of each readable photo, and the errors of the others."""

    positions: np.ndarray  # index in the input list of each readable photo
    maps: np.ndarray  # (photos, views, height, width, channels) float16
    errors: pd.DataFrame  # image_id, content_hash, reason, detail


def _views(
    path: Path, backbone: Backbone, views: int, rng: np.random.Generator, spec: Augmentation, max_pixels: int
) -> tuple[LoadedImage, np.ndarray | None]:
    crop = load_image(path, backbone.image_size, backbone.crop_fraction, max_pixels=max_pixels)
    if crop.pixels is None:
        return crop, None
    stack = [crop.pixels, crop.pixels[:, ::-1]][:views]
    if views > 2:
        whole = load_image(path, backbone.image_size, 1.0, max_pixels=max_pixels).pixels
        source = whole if whole is not None else crop.pixels
        stack += [augment(source, rng, spec) for _ in range(views - 2)]
    return crop, np.stack(stack)


def view_features(
    items: Sequence[tuple[Hashable, str | Path]],
    backbone: Backbone,
    first_block: int,
    *,
    views: int,
    seed: int = 0,
    augmentation: Augmentation | None = None,
    batch_size: int = 32,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    workers: int | None = None,
) -> ViewFeatures:
    """Run the trunk on ``views`` versions of each photo of ``items`` (``(image_id, path)``).

    View 0 is the labelling crop, view 1 its mirror image, the others augmented; each photo's views are drawn
    from a generator seeded by ``(seed, its position)``, so the same call gives the same views.
    """
    if views < 1:
        raise ValueError(f"views must be >= 1, got {views}")
    spec = augmentation or Augmentation()
    trunk = trunk_model(backbone, first_block)
    shape = tuple(int(d) for d in trunk.outputs[1].shape[1:])
    maps = np.zeros((len(items), views, *shape), dtype=np.float16)
    readable = np.zeros(len(items), dtype=bool)
    error_rows: list[tuple[object, ...]] = []
    per_batch = max(1, batch_size // views)

    def load(index: int) -> tuple[LoadedImage, np.ndarray | None]:
        rng = np.random.default_rng((seed, index))
        return _views(Path(items[index][1]), backbone, views, rng, spec, max_pixels)

    # decoding and augmenting (numpy, Pillow: they release the GIL) is most of the work: one thread per core
    threads = workers if workers is not None else min(16, os.cpu_count() or 1)
    with (
        ThreadPoolExecutor(max_workers=max(1, threads)) as pool,
        progress("views through the frozen trunk", total=len(items), unit="photos") as tracker,
    ):
        for start in range(0, len(items), per_batch):
            indices = list(range(start, min(start + per_batch, len(items))))
            loaded = list(pool.map(load, indices))
            good = [(i, stack) for i, (_, stack) in zip(indices, loaded, strict=True) if stack is not None]
            for i, (image, stack) in zip(indices, loaded, strict=True):
                if stack is None:
                    error_rows.append((items[i][0], image.content_hash, image.reason, image.detail))
            if good:
                pixels = np.concatenate([stack for _, stack in good])
                _, features = trunk.predict_on_batch(backbone.preprocess(pixels))
                features = np.asarray(features, dtype=np.float16).reshape(len(good), views, *shape)
                for (i, _), block in zip(good, features, strict=True):
                    maps[i] = block
                    readable[i] = True
            tracker.advance(len(indices))
    positions = np.flatnonzero(readable)
    return ViewFeatures(
        positions=positions,
        maps=maps if readable.all() else maps[positions],
        errors=pd.DataFrame(error_rows, columns=list(ERROR_COLUMNS)),
    )
