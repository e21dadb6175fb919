"""Image understanding: pretrained CNN backbones that label sale photos and embed them for transfer learning.

Modules:

- :mod:`~vitrine.vision.images`: file -> fixed-size RGB array, every bad file classified (never raised)
- :mod:`~vitrine.vision.labelling`: :func:`label_images`, batched top-k labels + embeddings + errors
- :mod:`~vitrine.vision.backbones`: :func:`load_backbone` by name, ``model_version``
- :mod:`~vitrine.vision.efficientnet_lite`: EfficientNet-Lite0 in Keras layers + state-dict mapping
- :mod:`~vitrine.vision.vgg16`: VGG16 from a user's weights file (ImageNet or Places365)
- :mod:`~vitrine.vision.torch_pickle`: torch-free, allow-listed reader of PyTorch ``.pth`` files
- :mod:`~vitrine.vision.classes`: ImageNet-1k names and class list files

Importing this package does not import Keras; loading a backbone does.
"""

from vitrine.vision.backbones import (
    BACKBONES,
    DEFAULT_BACKBONE,
    Backbone,
    BackboneError,
    load_backbone,
    model_version,
)
from vitrine.vision.classes import ClassListError, imagenet_class_names, read_class_list
from vitrine.vision.images import REASONS, LoadedImage, content_hash, load_image
from vitrine.vision.labelling import LabellingResult, label_images
from vitrine.vision.torch_pickle import TorchFileError, UnsafePickleError, load_state_dict

__all__ = [
    "BACKBONES",
    "DEFAULT_BACKBONE",
    "REASONS",
    "Backbone",
    "BackboneError",
    "ClassListError",
    "LabellingResult",
    "LoadedImage",
    "TorchFileError",
    "UnsafePickleError",
    "content_hash",
    "imagenet_class_names",
    "label_images",
    "load_backbone",
    "load_image",
    "load_state_dict",
    "model_version",
    "read_class_list",
]
