"""Photo augmentation for fine-tuning: random resized crops, horizontal flips and colour jitter.

:func:`augment` turns one decoded photo (an ``(size, size, 3)`` float RGB array in [0, 255], as
:func:`~vitrine.vision.images.load_image` returns it) into another plausible photo of the same scene, drawn
from a seeded numpy generator, so that a run is reproducible. The operations are the usual ImageNet ones, kept
mild because a scene's class depends on its whole layout: the crop keeps at least ``min_area`` of the photo.
Written with numpy and Pillow rather than a Keras preprocessing layer because the views are drawn once, before
the frozen part of the network runs, not inside the training graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["Augmentation", "augment"]


@dataclass(frozen=True)
class Augmentation:
    """How far a view may stray from the photo."""

    min_area: float = 0.5  # the crop keeps at least this share of the photo's area
    max_aspect: float = 4 / 3  # crop aspect ratio between 1 / max_aspect and max_aspect
    flip: bool = True  # mirror left-right half of the time
    brightness: float = 0.25  # multiply by a factor in [1 - b, 1 + b]
    contrast: float = 0.25  # stretch around the mean by [1 - c, 1 + c]
    saturation: float = 0.25  # blend with the grey image by [1 - s, 1 + s]


def _crop_box(size: int, rng: np.random.Generator, spec: Augmentation) -> tuple[int, int, int, int]:
    area = rng.uniform(spec.min_area, 1.0) * size * size
    aspect = math.exp(rng.uniform(-math.log(spec.max_aspect), math.log(spec.max_aspect)))
    width = min(size, max(1, round(math.sqrt(area * aspect))))
    height = min(size, max(1, round(math.sqrt(area / aspect))))
    left = int(rng.integers(0, size - width + 1))
    top = int(rng.integers(0, size - height + 1))
    return left, top, left + width, top + height


def augment(pixels: np.ndarray, rng: np.random.Generator, spec: Augmentation | None = None) -> np.ndarray:
    """One augmented view of ``pixels`` (``(size, size, 3)`` RGB in [0, 255]), the same shape, float32."""
    p = spec or Augmentation()
    size = int(pixels.shape[0])
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    box = _crop_box(size, rng, p)
    view = np.asarray(image.resize((size, size), Image.Resampling.BICUBIC, box=box), dtype=np.float32)
    if p.flip and rng.random() < 0.5:
        view = view[:, ::-1]
    view = view * rng.uniform(1 - p.brightness, 1 + p.brightness)
    mean = view.mean()
    view = (view - mean) * rng.uniform(1 - p.contrast, 1 + p.contrast) + mean
    grey = view @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    view = grey[..., None] + (view - grey[..., None]) * rng.uniform(1 - p.saturation, 1 + p.saturation)
    return np.clip(view, 0, 255).astype(np.float32)
