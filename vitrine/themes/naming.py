"""Theme names from their strongest tags: `swimming_pool_apartment_putting_green`."""

from __future__ import annotations

import re
from collections.abc import Sequence

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def tag_slug(tag: str) -> str:
    """A label as one identifier-like word: 'swimming pool/outdoor' -> 'swimming_pool_outdoor'."""
    return _NOT_WORD.sub("_", tag.lower()).strip("_")


def theme_name(top_tags: Sequence[str], taken: set[str] | None = None, words: int = 3) -> str:
    """The slugs of the first `words` tags joined by '_'; a numeric suffix when the name is already taken."""
    base = "_".join(slug for slug in (tag_slug(t) for t in top_tags[:words]) if slug) or "theme"
    if taken is None or base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"
