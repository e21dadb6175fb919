"""The sales' photos: which scene each image shows, and the image files themselves.

:func:`plan_images` gives each sale 1 to 3 images, the hero (position 1) from its archetype's outdoor/primary
scene classes, the others from its indoor classes. :func:`write_images` then either copies a real photo of
that class from a photo folder (one sub-folder per scene class, sorted listing, deterministic choice; the
bytes are copied as they are, extension kept) or draws a deterministic placeholder JPEG whose colours and
shapes evoke the class (blue sea under a sky, white glacier, green forest, a bed in a bedroom...).
:func:`list_photo_dir` validates a photo folder.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vitrine.simulate.catalog import ARCHETYPES, SCENE_CLASSES

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
IMAGES_PER_SALE = np.array([1, 2, 3])
IMAGES_PER_SALE_WEIGHTS = np.array([0.2, 0.35, 0.45])
PLACEHOLDER_SIZE = 128
PLACEHOLDER_QUALITY = 85
PLACEHOLDER = "placeholder"
SCENE_INDEX: dict[str, int] = {c: i for i, c in enumerate(SCENE_CLASSES)}


@dataclass(frozen=True)
class ImagePlan:
    image_id: np.ndarray  # int64, 1..n
    sale_id: np.ndarray  # int64
    position: np.ndarray  # int64, 1 = hero
    scene_class: np.ndarray  # int64 index into SCENE_CLASSES

    @property
    def size(self) -> int:
        return int(self.image_id.shape[0])


def plan_images(rng: np.random.Generator, sale_archetype: np.ndarray) -> ImagePlan:
    """1 to 3 images per sale, in sale order; scene classes from the sale's archetype."""
    n_sales = len(sale_archetype)
    cdf = np.cumsum(IMAGES_PER_SALE_WEIGHTS)
    per_sale = IMAGES_PER_SALE[np.searchsorted(cdf, rng.random(n_sales), side="right").clip(0, 2)]
    sale_idx = np.repeat(np.arange(n_sales), per_sale)
    first = np.concatenate([[0], np.cumsum(per_sale)[:-1]])
    position = np.arange(len(sale_idx)) - np.repeat(first, per_sale) + 1
    arch = sale_archetype[sale_idx]
    u = rng.random(len(sale_idx))
    scene = np.empty(len(sale_idx), dtype=np.int64)
    for a_index, a in enumerate(ARCHETYPES):
        hero_names = [c for c, _ in a.hero_classes]
        hero_cdf = np.cumsum([w for _, w in a.hero_classes])
        hero_cdf = hero_cdf / hero_cdf[-1]
        hero = (arch == a_index) & (position == 1)
        picked = np.searchsorted(hero_cdf, u[hero], side="right").clip(0, len(hero_names) - 1)
        scene[hero] = np.array([SCENE_INDEX[c] for c in hero_names])[picked]
        other = (arch == a_index) & (position > 1)
        picked = np.minimum((u[other] * len(a.other_classes)).astype(np.int64), len(a.other_classes) - 1)
        scene[other] = np.array([SCENE_INDEX[c] for c in a.other_classes])[picked]
    return ImagePlan(
        image_id=np.arange(1, len(sale_idx) + 1, dtype=np.int64),
        sale_id=sale_idx.astype(np.int64) + 1,
        position=position.astype(np.int64),
        scene_class=scene,
    )


def list_photo_dir(photos: Path) -> dict[str, list[str]]:
    """Sorted image names per scene class; ValueError if the folder or a class folder is missing or empty."""
    if not photos.is_dir():
        raise ValueError(f"photos: {photos} is not a folder (expected one sub-folder per scene class)")
    listing: dict[str, list[str]] = {}
    missing: list[str] = []
    for cls in SCENE_CLASSES:
        folder = photos / cls
        names = (
            sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if folder.is_dir()
            else []
        )
        if not names:
            missing.append(cls)
        listing[cls] = names
    if missing:
        raise ValueError(
            f"photos: {photos} lacks images for scene classes {', '.join(missing)} "
            f"(expected sub-folders {', '.join(SCENE_CLASSES)} holding {'/'.join(IMAGE_EXTENSIONS)} files)"
        )
    return listing


# --- placeholders -------------------------------------------------------------------------------------------

Colour = tuple[float, float, float]


class _Canvas:
    """A float RGB image with relative-coordinate drawing primitives."""

    def __init__(self, size: int) -> None:
        self.n = size
        self.px = np.zeros((size, size, 3), dtype=np.float32)
        self.grid = (np.arange(size) + 0.5) / size

    def _rows(self, y0: float, y1: float) -> slice:
        return slice(round(y0 * self.n), round(y1 * self.n))

    def gradient(self, y0: float, y1: float, top: Colour, bottom: Colour) -> None:
        rows = self._rows(y0, y1)
        t = np.linspace(0.0, 1.0, max(rows.stop - rows.start, 1))[:, None, None]
        self.px[rows] = (1 - t) * np.array(top) + t * np.array(bottom)

    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: Colour) -> None:
        self.px[self._rows(y0, y1), self._rows(x0, x1)] = colour

    def disc(self, cx: float, cy: float, r: float, colour: Colour) -> None:
        mask = (self.grid[None, :] - cx) ** 2 + (self.grid[:, None] - cy) ** 2 <= r * r
        self.px[mask] = colour

    def below(self, profile: np.ndarray, y_end: float | np.ndarray, colour: Colour) -> None:
        """Fill each column from its profile height down to y_end (scalar or per column): mountains."""
        end = np.broadcast_to(np.asarray(y_end, dtype=np.float64), profile.shape)
        mask = (self.grid[:, None] >= profile[None, :]) & (self.grid[:, None] < end[None, :])
        self.px[mask] = colour


def _jitter(rng: np.random.Generator, colour: Colour, amount: float = 18.0) -> Colour:
    r, g, b = (np.clip(np.array(colour) + rng.uniform(-amount, amount, 3), 0, 255)).tolist()
    return (r, g, b)


def _scale(colour: Colour, factor: float) -> Colour:
    return (colour[0] * factor, colour[1] * factor, colour[2] * factor)


def _sky(c: _Canvas, rng: np.random.Generator, horizon: float) -> None:
    c.gradient(0.0, horizon, _jitter(rng, (110, 165, 225)), _jitter(rng, (195, 220, 245)))


def _peaks(c: _Canvas, rng: np.random.Generator, base: float, n: int) -> np.ndarray:
    xs = rng.uniform(0.05, 0.95, n)
    heights = rng.uniform(0.12, base - 0.1, n)
    slopes = rng.uniform(0.6, 1.4, n)
    return np.min(heights[:, None] + slopes[:, None] * np.abs(c.grid[None, :] - xs[:, None]), axis=0)


def _draw_sea(c: _Canvas, rng: np.random.Generator) -> None:
    h = rng.uniform(0.35, 0.55)
    _sky(c, rng, h)
    c.gradient(h, 1.0, _jitter(rng, (35, 105, 170)), _jitter(rng, (10, 45, 105)))
    c.disc(rng.uniform(0.1, 0.9), rng.uniform(0.05, h - 0.1), rng.uniform(0.04, 0.08), (255, 240, 190))
    if rng.random() < 0.5:
        c.rect(0.0, rng.uniform(0.82, 0.92), 1.0, 1.0, _jitter(rng, (230, 210, 160)))


def _draw_glacier(c: _Canvas, rng: np.random.Generator) -> None:
    h = rng.uniform(0.3, 0.45)
    c.gradient(0.0, h, _jitter(rng, (150, 190, 230)), _jitter(rng, (215, 230, 245)))
    c.gradient(h, 1.0, _jitter(rng, (245, 248, 252), 8), _jitter(rng, (170, 190, 215)))
    c.below(_peaks(c, rng, h + 0.05, 4), h + 0.05, _jitter(rng, (225, 232, 242), 8))


def _draw_mountain(c: _Canvas, rng: np.random.Generator) -> None:
    ground = rng.uniform(0.7, 0.85)
    _sky(c, rng, ground)
    profile = _peaks(c, rng, ground, int(rng.integers(1, 4)))
    c.below(profile, ground, _jitter(rng, (110, 98, 90)))
    c.below(profile, np.minimum(profile + rng.uniform(0.04, 0.1), ground), (240, 240, 245))
    c.gradient(ground, 1.0, _jitter(rng, (85, 125, 65)), _jitter(rng, (55, 90, 45)))


def _draw_forest(c: _Canvas, rng: np.random.Generator) -> None:
    h = rng.uniform(0.12, 0.3)
    _sky(c, rng, h)
    c.gradient(h, 1.0, _jitter(rng, (40, 100, 45)), _jitter(rng, (20, 55, 25)))
    for x in rng.uniform(0.0, 1.0, int(rng.integers(4, 9))):
        w = rng.uniform(0.02, 0.05)
        c.rect(x, rng.uniform(0.45, 0.7), x + w, 1.0, _jitter(rng, (90, 65, 40)))


def _draw_buildings(c: _Canvas, rng: np.random.Generator) -> None:
    _sky(c, rng, 1.0)
    x = 0.0
    while x < 1.0:
        w = rng.uniform(0.12, 0.28)
        top = rng.uniform(0.15, 0.6)
        c.rect(x, top, x + w, 1.0, _jitter(rng, (165, 150, 135), 40))
        rows = (c.grid >= top + 0.05) & (c.grid < 0.95) & ((c.grid - top - 0.05) % 0.1 < 0.05)
        cols = (c.grid >= x + 0.03) & (c.grid < x + w - 0.03) & ((c.grid - x - 0.03) % 0.07 < 0.035)
        c.px[rows[:, None] & cols[None, :]] = (70, 80, 95)
        x += w


def _draw_street(c: _Canvas, rng: np.random.Generator) -> None:
    _sky(c, rng, 0.6)
    c.rect(0.0, rng.uniform(0.1, 0.3), 0.3, 1.0, _jitter(rng, (170, 150, 130), 35))
    c.rect(0.7, rng.uniform(0.1, 0.3), 1.0, 1.0, _jitter(rng, (160, 145, 135), 35))
    c.rect(0.3, 0.6, 0.7, 1.0, _jitter(rng, (85, 85, 90), 10))
    for y in np.arange(0.65, 1.0, 0.1):
        c.rect(0.49, y, 0.51, y + 0.05, (235, 235, 235))


def _draw_room(c: _Canvas, rng: np.random.Generator, wall: Colour, floor: Colour, floor_at: float) -> None:
    c.gradient(0.0, floor_at, _jitter(rng, wall), _jitter(rng, _scale(wall, 0.85)))
    c.gradient(floor_at, 1.0, _jitter(rng, floor), _jitter(rng, _scale(floor, 0.75)))


def _draw_bedroom(c: _Canvas, rng: np.random.Generator) -> None:
    _draw_room(c, rng, (225, 210, 190), (150, 110, 75), 0.65)
    x0 = rng.uniform(0.1, 0.3)
    c.rect(x0, 0.4, x0 + 0.6, 0.55, _jitter(rng, (110, 75, 50)))
    c.rect(x0, 0.55, x0 + 0.6, 0.85, _jitter(rng, (242, 240, 235), 8))
    c.rect(x0 + 0.05, 0.5, x0 + 0.25, 0.58, (250, 250, 250))
    c.rect(x0 + 0.35, 0.5, x0 + 0.55, 0.58, (250, 250, 250))


def _draw_bathroom(c: _Canvas, rng: np.random.Generator) -> None:
    _draw_room(c, rng, (215, 235, 235), (200, 200, 205), 0.8)
    step = int(rng.integers(8, 16))
    c.px[::step, :, :] = 160
    c.px[:, ::step, :] = 160
    c.rect(0.1, 0.55, 0.9, 0.85, _jitter(rng, (248, 248, 248), 6))
    c.rect(rng.uniform(0.25, 0.45), 0.1, rng.uniform(0.55, 0.75), 0.4, _jitter(rng, (190, 215, 230)))


def _draw_dining_room(c: _Canvas, rng: np.random.Generator) -> None:
    _draw_room(c, rng, (235, 225, 200), (140, 100, 70), 0.7)
    c.rect(0.15, 0.55, 0.85, 0.62, _jitter(rng, (105, 65, 35)))
    for x in (0.2, 0.78):
        c.rect(x, 0.62, x + 0.03, 0.85, (80, 50, 30))
    c.disc(0.5, 0.15, 0.06, (255, 225, 150))


def _draw_entrance_hall(c: _Canvas, rng: np.random.Generator) -> None:
    _draw_room(c, rng, (215, 200, 175), (235, 235, 235), 0.72)
    tile = (np.floor(c.grid * 8)[:, None] + np.floor(c.grid * 8)[None, :]) % 2 == 1
    mask = tile & (c.grid[:, None] >= 0.72)
    c.px[mask] = (40, 40, 45)
    c.rect(0.38, 0.2, 0.62, 0.72, _jitter(rng, (90, 55, 35)))
    c.disc(0.57, 0.47, 0.015, (220, 190, 90))


def _draw_kitchen(c: _Canvas, rng: np.random.Generator) -> None:
    _draw_room(c, rng, (240, 240, 235), (190, 180, 165), 0.85)
    cabinet = _jitter(rng, (180, 185, 190), 30)
    c.rect(0.05, 0.1, 0.95, 0.35, cabinet)
    c.rect(0.05, 0.55, 0.95, 0.6, _jitter(rng, (75, 75, 80)))
    c.rect(0.05, 0.6, 0.95, 0.85, cabinet)
    for x in np.arange(0.05, 0.95, 0.15):
        c.rect(x, 0.1, x + 0.005, 0.35, (120, 120, 125))
        c.rect(x, 0.6, x + 0.005, 0.85, (120, 120, 125))


def _draw_living_room(c: _Canvas, rng: np.random.Generator) -> None:
    _draw_room(c, rng, (230, 200, 170), (160, 120, 90), 0.75)
    c.rect(rng.uniform(0.05, 0.2), 0.12, rng.uniform(0.35, 0.5), 0.45, _jitter(rng, (175, 210, 235)))
    sofa = _jitter(rng, ((150, 60, 55), (55, 80, 130), (80, 115, 75))[int(rng.integers(0, 3))], 20)
    c.rect(0.15, 0.5, 0.85, 0.62, sofa)
    c.rect(0.12, 0.62, 0.88, 0.78, _scale(sofa, 0.8))
    c.rect(0.25, 0.82, 0.75, 0.95, _jitter(rng, (200, 180, 140)))


_DRAWERS: dict[str, Callable[[_Canvas, np.random.Generator], None]] = {
    "sea": _draw_sea,
    "glacier": _draw_glacier,
    "mountain": _draw_mountain,
    "forest": _draw_forest,
    "buildings": _draw_buildings,
    "street": _draw_street,
    "bedroom": _draw_bedroom,
    "bathroom": _draw_bathroom,
    "dining_room": _draw_dining_room,
    "entrance_hall": _draw_entrance_hall,
    "kitchen": _draw_kitchen,
    "living_room": _draw_living_room,
}


def placeholder_jpeg(scene_class: str, rng: np.random.Generator, size: int = PLACEHOLDER_SIZE) -> bytes:
    """A JPEG evoking ``scene_class`` by colours and shapes (deterministic given the generator's state)."""
    canvas = _Canvas(size)
    _DRAWERS[scene_class](canvas, rng)
    pixels = canvas.px + rng.integers(-6, 7, canvas.px.shape, dtype=np.int8)
    pixels = np.clip(pixels, 0, 255, out=pixels).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="JPEG", quality=PLACEHOLDER_QUALITY)
    return buffer.getvalue()


# --- files --------------------------------------------------------------------------------------------------


def image_name(sale_id: int, position: int, extension: str) -> str:
    return f"s{sale_id:06d}_{position}{extension}"


def write_images(
    rng: np.random.Generator,
    plan: ImagePlan,
    images_dir: Path,
    photos: Path | None,
    listing: dict[str, list[str]] | None,
    on_image: Callable[[], None] | None = None,
) -> tuple[list[str], list[str]]:
    """Write every planned image under ``images_dir``; return (uri, source_photo) per image.

    ``on_image`` is called after each image is written (progress).

    source_photo is the file's path relative to the photo folder (``sea/1.jpg``), or "placeholder".
    """
    images_dir.mkdir(parents=True, exist_ok=True)
    uris: list[str] = []
    sources: list[str] = []
    if photos is not None:
        if listing is None:
            listing = list_photo_dir(photos)
        u = rng.random(plan.size)
        cache: dict[str, bytes] = {}
        for i in range(plan.size):
            cls = SCENE_CLASSES[plan.scene_class[i]]
            names = listing[cls]
            name = names[min(int(u[i] * len(names)), len(names) - 1)]
            source = f"{cls}/{name}"
            if source not in cache:
                cache[source] = (photos / cls / name).read_bytes()
            uri = image_name(int(plan.sale_id[i]), int(plan.position[i]), Path(name).suffix)
            (images_dir / uri).write_bytes(cache[source])
            uris.append(uri)
            sources.append(source)
            if on_image is not None:
                on_image()
    else:
        for i in range(plan.size):
            uri = image_name(int(plan.sale_id[i]), int(plan.position[i]), ".jpg")
            (images_dir / uri).write_bytes(placeholder_jpeg(SCENE_CLASSES[plan.scene_class[i]], rng))
            uris.append(uri)
            sources.append(PLACEHOLDER)
            if on_image is not None:
                on_image()
    return uris, sources
