"""Theme names a person reads, from the theme's strongest tags: `coast, harbor, lighthouse`."""

from __future__ import annotations

import re
from collections.abc import Sequence

_SEPARATORS = re.compile(r"[_/\s]+")
_SUFFIX = re.compile(r" \((\d+)\)$")


def tag_words(tag: str) -> str:
    """A class id in words: '_' and '/' become spaces ('swimming_pool/outdoor' -> 'swimming pool outdoor')."""
    return _SEPARATORS.sub(" ", tag).strip()


def theme_name(top_tags: Sequence[str], taken: set[str] | None = None, words: int = 3) -> str:
    """The first `words` tags in words, comma-separated; ' (2)', ' (3)'... when the name is already taken."""
    parts: list[str] = []
    for tag in top_tags[:words]:
        part = tag_words(tag)
        if part and part not in parts:
            parts.append(part)
    base = ", ".join(parts) or "theme"
    if taken is None or base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


def names_tags(name: str, top_tags: Sequence[str]) -> bool:
    """Whether `name` is a name :func:`theme_name` gives these tags, in any order and with any ' (n)' suffix (a
    name of another format, or of other tags, is not kept from one night to the next)."""
    base = _SUFFIX.sub("", name)
    wanted = {tag_words(t) for t in top_tags} - {""}
    return bool(wanted) and sorted(base.split(", ")) == sorted(wanted)
