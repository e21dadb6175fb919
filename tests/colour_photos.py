"""Generated class folders of noisy single-colour photos: a red class and a blue class any head can tell apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {"red": (200, 30, 30), "blue": (30, 60, 200)}


def colour_folders(root: Path, per_class: int, *, size: int = 64, seed: int = 0) -> Path:
    """``root/red/*.jpg`` and ``root/blue/*.jpg``, ``per_class`` photos each, Gaussian noise drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(np.array(colour) + rng.normal(0, 25, (size, size, 3)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(root / name / f"{i}.jpg")
    return root
