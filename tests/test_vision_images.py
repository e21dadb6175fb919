"""Image loading: every kind of bad file gets a reason (never an exception); odd modes convert to RGB."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitrine.vision.images import REASONS, content_hash, load_image

SIZE = 32


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that announces width x height pixels and holds none: how real decompression bombs start."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


def _photo(width: int = 80, height: int = 60) -> Image.Image:
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _reason(path: Path, **kwargs: int) -> str | None:
    return load_image(path, SIZE, **kwargs).reason


def test_missing_file(tmp_path: Path) -> None:
    result = load_image(tmp_path / "nope.jpg", SIZE)
    assert (result.reason, result.content_hash, result.pixels) == ("missing_file", None, None)


def test_folder_is_unreadable(tmp_path: Path) -> None:
    assert _reason(tmp_path) == "unreadable_file"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    result = load_image(path, SIZE)
    assert result.reason == "empty_file"
    assert result.content_hash == hashlib.sha256(b"").hexdigest()


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("sale_id,title\n1,Sun and beach\n")
    result = load_image(path, SIZE)
    assert result.reason == "not_an_image"
    assert result.content_hash == content_hash(path.read_bytes())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF"])
def test_truncated_file(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"cut.{fmt.lower()}"
    _photo(400, 300).save(path, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert _reason(path) == "truncated_file"


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    _photo().save(path)
    assert _reason(path, max_bytes=100) == "file_too_large"


def test_decompression_bomb_over_our_cap(tmp_path: Path) -> None:
    path = _png_header_only(tmp_path / "bomb.png", 8000, 6000)  # 48 M pixels > 40 M
    result = load_image(path, SIZE)
    assert result.reason == "decompression_bomb"
    assert "8000x6000" in result.detail


def test_decompression_bomb_pillow_limit(tmp_path: Path) -> None:
    # Above Pillow's own hard limit (2 x MAX_IMAGE_PIXELS) Image.open raises DecompressionBombError itself.
    path = _png_header_only(tmp_path / "huge.png", 100_000, 100_000)
    assert _reason(path, max_pixels=10**12) == "decompression_bomb"


def test_garbage_after_a_jpeg_marker_never_raises(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for i in range(20):
        path = tmp_path / f"garbage{i}.jpg"
        path.write_bytes(b"\xff\xd8\xff\xe0" + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
        assert _reason(path) in REASONS


def test_good_jpeg_shape_range_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    _photo(640, 480).save(path, quality=90)
    result = load_image(path, 224)
    assert result.ok and result.reason is None and result.pixels is not None
    assert result.pixels.shape == (224, 224, 3) and result.pixels.dtype == np.float32
    assert result.pixels.min() >= 0.0 and result.pixels.max() <= 255.0
    assert result.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_grayscale_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "gray.png"
    Image.new("L", (40, 40), 90).save(path)
    pixels = load_image(path, SIZE).pixels
    assert pixels is not None
    np.testing.assert_allclose(pixels, 90.0, atol=0.5)


def test_sixteen_bit_grayscale_is_scaled(tmp_path: Path) -> None:
    path = tmp_path / "gray16.png"
    Image.fromarray(np.full((40, 40), 65535, dtype=np.uint16)).save(path)
    pixels = load_image(path, SIZE).pixels
    assert pixels is not None
    np.testing.assert_allclose(pixels, 255.0, atol=0.5)


def test_bilevel_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "bilevel.png"
    Image.new("1", (40, 40), 1).save(path)
    pixels = load_image(path, SIZE).pixels
    assert pixels is not None
    np.testing.assert_allclose(pixels, 255.0, atol=0.5)


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (40, 40), (0, 255, 255, 0)).save(path, quality=95)  # pure red in CMYK
    pixels = load_image(path, SIZE).pixels
    assert pixels is not None
    red, green, blue = pixels.reshape(-1, 3).mean(axis=0)
    assert red > 200 and green < 60 and blue < 60


def test_png_alpha_is_composited_on_white(tmp_path: Path) -> None:
    path = tmp_path / "alpha.png"
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))  # fully transparent black
    image.paste((255, 0, 0, 128), (0, 0, 40, 20))  # half-transparent red on the top half
    image.save(path)
    pixels = load_image(path, 40, crop_fraction=1.0).pixels
    assert pixels is not None
    np.testing.assert_allclose(pixels[30:, :, :], 255.0, atol=1.0)  # transparent -> white
    np.testing.assert_allclose(pixels[5, 5], [255.0, 127.0, 127.0], atol=2.0)  # red over white


def test_gray_alpha_is_composited_on_white(tmp_path: Path) -> None:
    path = tmp_path / "la.png"
    Image.new("LA", (40, 40), (0, 0)).save(path)
    pixels = load_image(path, SIZE).pixels
    assert pixels is not None
    np.testing.assert_allclose(pixels, 255.0, atol=0.5)


def test_palette_images(tmp_path: Path) -> None:
    plain = tmp_path / "palette.png"
    Image.new("RGB", (40, 40), (0, 128, 255)).convert("P", palette=Image.Palette.ADAPTIVE).save(plain)
    pixels = load_image(plain, SIZE).pixels
    assert pixels is not None
    np.testing.assert_allclose(pixels.reshape(-1, 3).mean(axis=0), [0, 128, 255], atol=3.0)

    transparent = tmp_path / "palette_transparent.gif"
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    image.save(transparent, transparency=0)  # index 0 (black) is transparent
    pixels = load_image(transparent, SIZE).pixels
    assert pixels is not None
    np.testing.assert_allclose(pixels, 255.0, atol=0.5)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    stored = Image.new("RGB", (60, 30), (255, 0, 0))
    stored.paste((0, 0, 255), (30, 0, 60, 30))  # stored: left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored rotated 90 degrees clockwise: red on top, blue below
    path = tmp_path / "rotated.jpg"
    stored.save(path, quality=95, exif=exif)
    pixels = load_image(path, 30, crop_fraction=1.0).pixels
    assert pixels is not None
    top, bottom = pixels[3].mean(axis=0), pixels[-3].mean(axis=0)
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_centre_crop_keeps_the_middle(tmp_path: Path) -> None:
    image = Image.new("RGB", (300, 100), (0, 255, 0))
    image.paste((255, 0, 0), (100, 0, 200, 100))  # only the middle third is red
    path = tmp_path / "wide.png"
    image.save(path)
    pixels = load_image(path, 50, crop_fraction=1.0).pixels
    assert pixels is not None
    np.testing.assert_allclose(pixels[:, 2:-2].mean(axis=(0, 1)), [255, 0, 0], atol=2.0)


def test_large_jpeg_uses_draft_and_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "large.jpg"
    Image.new("RGB", (4000, 3000), (10, 200, 30)).save(path, quality=90)
    pixels = load_image(path, 224).pixels
    assert pixels is not None and pixels.shape == (224, 224, 3)
    np.testing.assert_allclose(pixels.reshape(-1, 3).mean(axis=0), [10, 200, 30], atol=4.0)
