"""Labelled image sets for transfer learning: class folders, an ``image,labels`` CSV or both, and reproducible splits.

Three layouts are read by :func:`read_dataset`:

- a folder with one sub-folder per class (``photos/sea/1.jpg``, ``photos/forest/7.png``): single label, the
  class names are the sub-folder names (sorted), every image file below a class folder belongs to it;
- a CSV file (or a folder holding ``labels.csv`` and at most one sub-folder with images) with a header
  ``image,labels``: ``image`` is a path relative to the CSV's folder (or absolute), ``labels`` the image's labels
  separated by ``|`` (may be empty): multilabel, the classes are the labels used;
- class folders *and* ``labels.csv`` (a folder holding ``labels.csv`` beside at least two sub-folders with
  images): multilabel. Every image below a class folder carries its folder's class plus the labels that
  ``labels.csv`` lists for it (a label may be a tag that names no folder; an image without a row keeps its
  folder's class alone). ``image`` paths are relative to the dataset folder (``./`` and ``..`` are normalised,
  an absolute path inside the folder is made relative). A row may also name an image that lies in no class
  folder (every sub-folder holding images is a class folder, so such an image lies in the dataset folder itself
  or outside it): it is taken when its file exists, with the row's labels alone (none: an image with no label).
  Every row's file must exist: a missing one raises :class:`DatasetError` naming the CSV file and line. The
  classes are the folder names and the tags, sorted. A ``labels.csv`` holding the header alone turns plain class
  folders into a multilabel dataset (one label an image), which is what ``mode="multi"`` does without the file.
  To read such a CSV without its folders, pass the CSV file itself.

``mode`` (``"single"`` / ``"multi"``) overrides the layout's: ``"multi"`` reads class folders as multilabel (one
label an image: a sigmoid head can be trained on single-label folders), ``"single"`` accepts a CSV or combined
dataset only when every image has exactly one label.

Image ids are the paths relative to the dataset root, in POSIX form (``sea/1.jpg``).

:func:`split_dataset` cuts a reproducible stratified part out of a dataset: within each stratum (the class;
in multilabel mode the image's rarest label) images are ordered by ``sha256(salt:seed:image id)`` and the first
``round(n * test_fraction)`` are the test part, the rest the train part. The order depends on the image id
alone, so adding a photo moves no other photo across the cut. The same rule (another salt) makes the
validation split of :func:`~vitrine.vision.transfer.head.train_head`. Class folders read as multilabel have
the same strata, hence the same split, as in single-label mode.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

__all__ = [
    "CSV_NAME",
    "IMAGE_SUFFIXES",
    "DatasetError",
    "LabelledImages",
    "Mode",
    "Part",
    "SplitSpec",
    "read_dataset",
    "split_dataset",
    "stratified_split",
]

Mode = Literal["single", "multi"]
MODES: Final[tuple[Mode, ...]] = ("single", "multi")
Part = Literal["all", "train", "test"]
CSV_NAME: Final = "labels.csv"
LABEL_SEPARATOR: Final = "|"
IMAGE_SUFFIXES: Final = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".jfif", ".ppm", ".pgm"}
)
PARTS: Final[tuple[Part, ...]] = ("all", "train", "test")


class DatasetError(ValueError):
    """A dataset that cannot be used: no classes, a malformed CSV, duplicated images, a bad split request."""


@dataclass(frozen=True)
class LabelledImages:
    """Images with their labels. ``labels[i]`` holds one class (single mode) or any number (multi mode)."""

    root: Path
    images: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    classes: tuple[str, ...]
    mode: Mode

    def __len__(self) -> int:
        return len(self.images)

    def path(self, image: str) -> Path:
        """The file of image id ``image`` (relative to :attr:`root` unless absolute)."""
        return self.root / image

    def items(self) -> list[tuple[str, Path]]:
        """``(image id, path)`` pairs in dataset order: the input of ``label_images``."""
        return [(image, self.path(image)) for image in self.images]

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabelledImages:
        """The images at ``indices`` (in that order); the class list is kept whole."""
        picked = [int(i) for i in indices]
        return LabelledImages(
            root=self.root,
            images=tuple(self.images[i] for i in picked),
            labels=tuple(self.labels[i] for i in picked),
            classes=self.classes,
            mode=self.mode,
        )

    def class_counts(self) -> dict[str, int]:
        """Images per class (multilabel: images carrying the label), every class listed."""
        counts = Counter(label for labels in self.labels for label in labels)
        return {name: counts.get(name, 0) for name in self.classes}

    def strata(self) -> list[str]:
        """The stratum of each image: its class, or in multilabel mode its rarest label ("" for none)."""
        if self.mode == "single":
            return [labels[0] for labels in self.labels]
        counts = self.class_counts()
        return [min(labels, key=lambda label: (counts[label], label)) if labels else "" for labels in self.labels]

    def targets(self, classes: Sequence[str] | None = None) -> np.ndarray:
        """Single mode: int64 class indices into ``classes``; multi mode: a 0/1 float32 ``(images, classes)``
        matrix. ``classes`` defaults to this dataset's; a label outside it raises (single) or is left out."""
        names = tuple(classes) if classes is not None else self.classes
        index = {name: i for i, name in enumerate(names)}
        if self.mode == "single":
            unknown = sorted({labels[0] for labels in self.labels} - set(index))
            if unknown:
                raise DatasetError(f"classes unknown to the model: {', '.join(unknown[:10])}")
            return np.array([index[labels[0]] for labels in self.labels], dtype=np.int64)
        matrix = np.zeros((len(self.labels), len(names)), dtype=np.float32)
        for row, labels in enumerate(self.labels):
            for label in labels:
                if label in index:
                    matrix[row, index[label]] = 1.0
        return matrix


@dataclass(frozen=True)
class SplitSpec:
    """Which part of a dataset a model was trained on: ``all``, or ``train``/``test`` of the seeded split."""

    part: Part = "all"
    seed: int = 0
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.part not in PARTS:
            raise DatasetError(f"split part must be one of {', '.join(PARTS)}, got {self.part!r}")
        if not 0.0 < self.test_fraction < 1.0:
            raise DatasetError(f"test_fraction must be in (0, 1), got {self.test_fraction}")

    def complement(self) -> SplitSpec:
        """The other part of the same split (``all`` stays ``all``)."""
        other: Part = {"all": "all", "train": "test", "test": "train"}[self.part]  # type: ignore[assignment]
        return SplitSpec(part=other, seed=self.seed, test_fraction=self.test_fraction)

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "seed": self.seed, "test_fraction": self.test_fraction}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SplitSpec:
        return cls(part=data["part"], seed=int(data["seed"]), test_fraction=float(data["test_fraction"]))


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _class_folders(root: Path) -> list[tuple[str, list[Path]]]:
    """The non-hidden sub-folders of ``root`` holding images, sorted, each with its image files (sorted)."""
    found: list[tuple[str, list[Path]]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(
            p for p in folder.rglob("*")
            if _is_image(p) and not any(q.startswith(".") for q in p.relative_to(folder).parts)
        )
        if files:
            found.append((folder.name, files))
    return found


def _read_folders(root: Path, folders: list[tuple[str, list[Path]]]) -> LabelledImages:
    images: list[str] = []
    labels: list[tuple[str, ...]] = []
    for name, files in folders:
        for file in files:
            images.append(file.relative_to(root).as_posix())
            labels.append((name,))
    if len(folders) < 2:
        raise DatasetError(
            f"{root}: found {len(folders)} class folder(s) with images; single-label training needs one "
            f"sub-folder per class (at least 2), or give a CSV {CSV_NAME} with columns image,labels"
        )
    classes = tuple(name for name, _ in folders)
    return LabelledImages(root=root, images=tuple(images), labels=tuple(labels), classes=classes, mode="single")


@dataclass(frozen=True)
class _Row:
    line: int
    image: str
    labels: tuple[str, ...]


def _csv_rows(path: Path) -> list[_Row]:
    """The rows of an ``image,labels`` CSV (header checked, empty or repeated image paths refused)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip() for f in reader.fieldnames or []]
    if "image" not in fields or "labels" not in fields:
        raise DatasetError(f"{path.name}: the header must name the columns image,labels (got {','.join(fields)})")
    rows: list[_Row] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip(): v for k, v in row.items()}
        image = (row.get("image") or "").strip()
        if not image:
            raise DatasetError(f"{path.name}:{number}: empty image path")
        if image in seen:
            raise DatasetError(f"{path.name}:{number}: image {image!r} is listed twice")
        seen.add(image)
        raw = row.get("labels") or ""
        names = [name.strip() for name in raw.split(LABEL_SEPARATOR)]
        rows.append(_Row(number, image, tuple(dict.fromkeys(name for name in names if name))))
    return rows


def _read_csv(path: Path) -> LabelledImages:
    rows = _csv_rows(path)
    if not rows:
        raise DatasetError(f"{path.name}: no images listed")
    labels = tuple(row.labels for row in rows)
    classes = tuple(sorted({label for row in labels for label in row}))
    if not classes:
        raise DatasetError(f"{path.name}: no image has a label")
    images = tuple(row.image for row in rows)
    return LabelledImages(root=path.parent, images=images, labels=labels, classes=classes, mode="multi")


def _image_id(root: Path, image: str) -> str:
    """``image`` (a CSV cell) as an image id: relative to ``root`` in POSIX form where it lies below it."""
    path = Path(image)
    if path.is_absolute():
        try:
            return path.relative_to(root.resolve()).as_posix()
        except ValueError:
            try:
                return path.relative_to(root.absolute()).as_posix()
            except ValueError:
                return path.as_posix()
    return Path(os.path.normpath(image)).as_posix()


def _read_combined(root: Path, csv_path: Path, folders: list[tuple[str, list[Path]]]) -> LabelledImages:
    """Class folders plus the extra labels of ``csv_path`` (see the module docstring): multilabel."""
    images: list[str] = []
    labels: list[list[str]] = []
    position: dict[str, int] = {}
    for name, files in folders:
        for file in files:
            position[file.relative_to(root).as_posix()] = len(images)
            images.append(file.relative_to(root).as_posix())
            labels.append([name])
    folder_names = {name for name, _ in folders}
    listed: dict[str, int] = {}
    for row in _csv_rows(csv_path):
        image = _image_id(root, row.image)
        if image in listed:
            raise DatasetError(
                f"{csv_path}:{row.line}: image {row.image!r} is the image of line {listed[image]} ({image})"
            )
        listed[image] = row.line
        if image in position:
            labels[position[image]].extend(row.labels)
            continue
        file = root / image
        if not file.is_file():
            raise DatasetError(f"{csv_path}:{row.line}: image {row.image!r} not found (no file {file})")
        parts = image.split("/")
        in_folder = not Path(image).is_absolute() and len(parts) > 1 and parts[0] in folder_names
        position[image] = len(images)
        images.append(image)
        labels.append([parts[0], *row.labels] if in_folder else list(row.labels))
    label_sets = tuple(tuple(dict.fromkeys(names)) for names in labels)
    classes = tuple(sorted({label for names in label_sets for label in names}))
    return LabelledImages(root=root, images=tuple(images), labels=label_sets, classes=classes, mode="multi")


def _with_mode(dataset: LabelledImages, mode: Mode | None, source: Path) -> LabelledImages:
    if mode is None or mode == dataset.mode:
        return dataset
    if mode == "multi":
        return replace(dataset, mode="multi")
    for image, labels in zip(dataset.images, dataset.labels, strict=True):
        if len(labels) != 1:
            raise DatasetError(
                f"{source}: image {image} has {len(labels)} labels ({', '.join(labels) or 'none'}); "
                "single-label mode needs exactly one label an image"
            )
    used = {labels[0] for labels in dataset.labels}
    return replace(dataset, classes=tuple(name for name in dataset.classes if name in used), mode="single")


def read_dataset(photos: str | Path, mode: Mode | None = None) -> LabelledImages:
    """Read class folders, a multilabel CSV, or class folders with a ``labels.csv`` (see the module docstring).

    ``mode``: None (default) takes the layout's mode; ``"multi"`` reads class folders as multilabel;
    ``"single"`` accepts a multilabel layout only when every image has exactly one label.
    """
    if mode not in (None, *MODES):
        raise DatasetError(f"mode must be one of {', '.join(MODES)} (or None for the layout's), got {mode!r}")
    path = Path(photos)
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise DatasetError(f"{path}: give a folder of class folders or a .csv file with columns image,labels")
        return _with_mode(_read_csv(path), mode, path)
    if not path.is_dir():
        raise DatasetError(f"no dataset at {path}")
    csv_path = path / CSV_NAME
    folders = _class_folders(path)
    if csv_path.is_file():
        if len(folders) >= 2:
            return _with_mode(_read_combined(path, csv_path, folders), mode, path)
        return _with_mode(_read_csv(csv_path), mode, path)
    return _with_mode(_read_folders(path, folders), mode, path)


def _rank_key(salt: str, seed: int, image: str) -> str:
    return hashlib.sha256(f"{salt}:{seed}:{image}".encode()).hexdigest()


def stratified_split(
    keys: Sequence[str], strata: Sequence[str], fraction: float, seed: int, salt: str = "split"
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held out): in every stratum of ``n`` keys, ``round(n * fraction)`` (at least one when
    ``n >= 2``, at most ``n - 1``) are held out, chosen by the hash order of ``salt:seed:key``."""
    if len(keys) != len(strata):
        raise ValueError("keys and strata differ in length")
    if not 0.0 <= fraction < 1.0:
        raise DatasetError(f"the held-out fraction must be in [0, 1), got {fraction}")
    groups: dict[str, list[int]] = {}
    for index, stratum in enumerate(strata):
        groups.setdefault(stratum, []).append(index)
    held: list[int] = []
    for members in groups.values():
        n = len(members)
        count = math.floor(n * fraction + 0.5)
        if fraction > 0.0 and n >= 2:
            count = min(max(count, 1), n - 1)
        ordered = sorted(members, key=lambda i: _rank_key(salt, seed, keys[i]))
        held.extend(ordered[:count])
    held_set = set(held)
    kept = np.array([i for i in range(len(keys)) if i not in held_set], dtype=np.int64)
    return kept, np.array(sorted(held_set), dtype=np.int64)


def split_dataset(dataset: LabelledImages, spec: SplitSpec) -> LabelledImages:
    """The part of ``dataset`` that ``spec`` names (``all``: the dataset itself)."""
    if spec.part == "all":
        return dataset
    train, test = stratified_split(dataset.images, dataset.strata(), spec.test_fraction, spec.seed)
    return dataset.subset(train if spec.part == "train" else test)
