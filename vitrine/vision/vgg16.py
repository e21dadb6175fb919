"""VGG16 (the talk's network) from a weights file the user names: ImageNet (1000 classes) or Places365 (365).

:func:`build_vgg16` makes ``keras.applications.VGG16(weights=None, classes=N)`` and loads the file with
``model.load_weights``: a Keras 3 ``.weights.h5`` or a legacy Keras 2 ``.h5`` such as
``vgg16_weights_tf_dim_ordering_tf_kernels.h5`` (ImageNet) or the community Places365 conversion
``vgg16-places365_weights_tf_dim_ordering_tf_kernels.h5`` (legacy files are matched layer by layer in order,
so the Places365 file's extra Dropout layers, which hold no weights, do not matter). The model returned
outputs ``[embedding (batch, 512), probabilities (batch, N)]``: the embedding is the global average of the
last convolution block (``block5_pool``), as ``include_top=False, pooling="avg"`` gives for transfer
learning.

Both weight sets were trained on Caffe-style inputs, hence :func:`preprocess`: RGB -> BGR and the ImageNet
mean subtracted (what ``keras.applications.vgg16.preprocess_input`` does), here in numpy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import keras
import numpy as np

__all__ = ["IMAGE_SIZE", "VGG16WeightsError", "build_vgg16", "preprocess"]

IMAGE_SIZE: Final = 224
_BGR_MEAN: Final = np.array([103.939, 116.779, 123.68], dtype=np.float32)
_SUFFIXES: Final = (".h5", ".hdf5", ".keras")


class VGG16WeightsError(ValueError):
    """The weights file is missing, of an unknown kind, or does not fit VGG16 with the given class count."""


def preprocess(pixels: np.ndarray) -> np.ndarray:
    """RGB float pixels in [0, 255], channels last -> BGR minus the ImageNet mean (Caffe mode)."""
    bgr = np.asarray(pixels, dtype=np.float32)[..., ::-1]
    return (bgr - _BGR_MEAN).astype(np.float32)


def build_vgg16(weights: str | Path, num_classes: int) -> keras.Model:
    """VGG16 with ``num_classes`` classes and the weights in ``weights``: [embedding, probabilities]."""
    path = Path(weights)
    if not path.is_file():
        raise VGG16WeightsError(f"no VGG16 weights file at {path}")
    if not path.name.endswith(_SUFFIXES):
        raise VGG16WeightsError(f"{path.name}: VGG16 weights must be a Keras .h5 / .weights.h5 / .keras file")
    base = keras.applications.VGG16(weights=None, include_top=True, classes=num_classes)
    try:
        base.load_weights(str(path))
    except Exception as exc:  # keras raises ValueError / KeyError / OSError variants for a misfit file
        raise VGG16WeightsError(
            f"{path.name} does not fit VGG16 with {num_classes} classes "
            f"(ImageNet weights have 1000, Places365 weights 365: give the matching class list): {exc}"
        ) from exc
    embedding = keras.layers.GlobalAveragePooling2D(name="embedding")(base.get_layer("block5_pool").output)
    return keras.Model(base.inputs, [embedding, base.output], name="vgg16")
