"""Thumbnails of the sales' photos, copied and resized into the report folder (the page opens from disk)."""

from __future__ import annotations

import logging
from pathlib import Path

from PIL import Image, UnidentifiedImageError

logger = logging.getLogger("vitrine.report")

SIZE = (200, 150)


class Thumbnails:
    """Writes each source image once as img/<name>.jpg under the report folder; returns the relative path."""

    def __init__(self, report_dir: Path) -> None:
        self.folder = report_dir / "img"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._done: dict[str, str | None] = {}
        self.failed: list[str] = []

    def get(self, name: str, source: str | None) -> str | None:
        """img/<name>.jpg for the photo at `source` (absolute path), or None when it is missing or unreadable."""
        if name in self._done:
            return self._done[name]
        relative: str | None = None
        if source:
            target = self.folder / f"{name}.jpg"
            try:
                with Image.open(source) as image:
                    image.draft("RGB", SIZE)  # JPEG: decode at a reduced scale
                    thumb = image.convert("RGB")
                    thumb.thumbnail(SIZE)
                    thumb.save(target, "JPEG", quality=82)
                relative = f"img/{target.name}"
            except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as exc:
                logger.info("report: no thumbnail for %s (%s)", source, exc)
                self.failed.append(source)
        self._done[name] = relative
        return relative
