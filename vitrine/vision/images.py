"""Image files -> fixed-size RGB float arrays for a backbone, with every failure classified, never raised.

:func:`load_image` reads one file, hashes its bytes (``content_hash``: sha256 hex, the key for incremental
labelling), decodes it with Pillow and returns a :class:`LoadedImage` holding either an ``(size, size, 3)``
float32 RGB array in ``[0, 255]`` or an error ``reason`` (one of :data:`REASONS`) with a ``detail``.

Decoding: EXIF orientation applied; grayscale, bilevel, 16-bit, CMYK, YCbCr... converted to RGB; palette
images expanded; any alpha (RGBA, LA, palette transparency) composited on white. Geometry: a centred square
crop of ``crop_fraction`` of the shorter side (0.875: the classic 224-of-256 evaluation crop), resized
bicubic to ``size``. Images above ``max_pixels`` (40 M by default) are refused before any pixel is decoded
(``decompression_bomb``), as are Pillow's own ``DecompressionBombError``; Pillow's global limits stay as they
are.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "REASONS",
    "LoadedImage",
    "Reason",
    "content_hash",
    "load_image",
    "to_rgb",
]

Reason = Literal[
    "missing_file",
    "unreadable_file",
    "empty_file",
    "file_too_large",
    "not_an_image",
    "truncated_file",
    "decompression_bomb",
    "corrupt_image",
]
REASONS: Final[tuple[str, ...]] = (
    "missing_file",  # no file at the path
    "unreadable_file",  # a folder, no permission, I/O error
    "empty_file",  # zero bytes
    "file_too_large",  # more bytes than max_bytes: not read
    "not_an_image",  # Pillow recognises no image format
    "truncated_file",  # the header is fine, the pixel data stops early
    "decompression_bomb",  # more pixels than max_pixels (or Pillow's own bomb limit)
    "corrupt_image",  # any other decoding failure
)
DEFAULT_MAX_PIXELS: Final = 40_000_000
DEFAULT_MAX_BYTES: Final = 200 * 1024 * 1024
_WHITE: Final = (255, 255, 255)
_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


@dataclass(frozen=True)
class LoadedImage:
    """The outcome of loading one file: ``pixels`` (``(size, size, 3)`` float32, 0-255) or ``reason``."""

    pixels: np.ndarray | None
    content_hash: str | None
    reason: Reason | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.pixels is not None


def content_hash(data: bytes) -> str:
    """sha256 hex digest of a file's bytes (the incrementality key of a labelled image)."""
    return hashlib.sha256(data).hexdigest()


def _failure(reason: Reason, digest: str | None, detail: str) -> LoadedImage:
    return LoadedImage(pixels=None, content_hash=digest, reason=reason, detail=detail)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB: alpha composited on white, 16-bit and float scaled to 0-255."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        high = float(values.max()) if values.size else 0.0
        if mode.startswith("I;16") or 255.0 < high <= 65535.0:
            values = values / 257.0
        elif high > 65535.0:
            values = values * (255.0 / high)
        gray = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), mode="L")
        return gray.convert("RGB")
    if mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _crop_box(width: int, height: int, crop_fraction: float) -> tuple[float, float, float, float]:
    side = min(width, height) * crop_fraction
    left = (width - side) / 2.0
    top = (height - side) / 2.0
    return (left, top, left + side, top + side)


def _decode(
    data: bytes, size: int, crop_fraction: float, max_pixels: int
) -> tuple[np.ndarray | None, Reason | None, str]:
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > max_pixels:
            return None, "decompression_bomb", f"{width}x{height} pixels is over the cap of {max_pixels}"
        if width < 1 or height < 1:
            return None, "corrupt_image", f"empty image {width}x{height}"
        if image.format == "JPEG":
            # Decode at a reduced DCT scale when the photo is much larger than needed.
            wanted = int(np.ceil(size / crop_fraction))
            image.draft(image.mode, (wanted, wanted))
        image.load()
        with contextlib.suppress(Exception):  # a broken EXIF block must not lose the picture
            image = ImageOps.exif_transpose(image) or image
        rgb = to_rgb(image)
        box = _crop_box(rgb.width, rgb.height, crop_fraction)
        resized = rgb.resize((size, size), Image.Resampling.BICUBIC, box=box, reducing_gap=3.0)
        return np.asarray(resized, dtype=np.float32), None, ""
    except Image.DecompressionBombError as exc:
        return None, "decompression_bomb", str(exc)
    except UnidentifiedImageError as exc:
        return None, "not_an_image", str(exc)
    except (OSError, EOFError, SyntaxError) as exc:
        text = str(exc)
        if "truncated" in text or isinstance(exc, EOFError):
            return None, "truncated_file", text
        return None, "corrupt_image", f"{type(exc).__name__}: {text}"
    except MemoryError:
        return None, "decompression_bomb", "out of memory while decoding"
    except Exception as exc:  # any decoder failure on hostile bytes is a bad image, never a crash
        return None, "corrupt_image", f"{type(exc).__name__}: {exc}"


def load_image(
    path: str | Path,
    size: int,
    crop_fraction: float = 0.875,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> LoadedImage:
    """Load ``path`` as a ``(size, size, 3)`` float32 RGB array (0-255), or say why not. Never raises for
    a bad file: the reason is one of :data:`REASONS`, ``content_hash`` is set whenever the bytes were read."""
    if not 0.0 < crop_fraction <= 1.0:
        raise ValueError(f"crop_fraction must be in (0, 1], got {crop_fraction}")
    path = Path(path)
    try:
        if path.stat().st_size > max_bytes:
            return _failure("file_too_large", None, f"{path.stat().st_size} bytes is over {max_bytes}")
        data = path.read_bytes()
    except FileNotFoundError:
        return _failure("missing_file", None, f"no file at {path}")
    except OSError as exc:
        return _failure("unreadable_file", None, f"{type(exc).__name__}: {exc}")
    digest = content_hash(data)
    if not data:
        return _failure("empty_file", digest, "0 bytes")
    pixels, reason, detail = _decode(data, size, crop_fraction, max_pixels)
    if reason is not None:
        return _failure(reason, digest, detail)
    return LoadedImage(pixels=pixels, content_hash=digest)
