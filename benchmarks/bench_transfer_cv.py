"""Transfer learning candidates by k-fold cross-validation: top-1 / top-5, training time and labelling speed.

For each candidate (a backbone, and how many of its last blocks are fine-tuned on how many views of each photo)
the photos go once through the frozen part of the network (the backbone's embeddings, or the trunk's feature
maps of every view), then each fold trains the classifier exactly as ``vitrine transfer train`` does
(``vitrine.vision.transfer.head.fit_classifier``: a stratified 20% of the fold's training photos drives early
stopping) and scores the fold's held-out photos (the labelling crop). Labelling speed is ``label_images`` on
the labelling network (backbone, or trunk joined to the fine-tuned top), photos decoded included, median of
three passes.

The frozen pass is cached in ``--cache`` (an ``.npz`` per candidate and photo set), so a rerun only trains.

Run: ``.venv/bin/python benchmarks/bench_transfer_cv.py [--photos DIR] [--candidates lite0,lite0-ft2,...]
[--folds 5] [--max-folds K] [--per-class N] [--cache DIR] [--json]``. Candidates: ``lite0``, ``lite2``
(frozen backbone, the dense head) and ``lite0-ftN``, ``lite2-ftN`` (last N blocks fine-tuned; ``-vV`` sets
the views, default 4), e.g. ``lite2-ft2-v6``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TRAVEL_SCENES = ROOT.parent / "shared" / "datasets" / "travel-scenes"
BACKBONES = {"lite0": "efficientnet_lite0", "lite2": "efficientnet_lite2"}
SPEED_PHOTOS = 192


@dataclasses.dataclass(frozen=True)
class Candidate:
    name: str
    backbone: str
    blocks: int
    views: int


def parse_candidate(text: str) -> Candidate:
    match = re.fullmatch(r"(lite[02])(?:-ft(\d+))?(?:-v(\d+))?", text.strip())
    if not match:
        raise SystemExit(f"unknown candidate {text!r}: lite0, lite2, lite0-ft2, lite2-ft3-v6 ...")
    blocks = int(match.group(2) or 0)
    return Candidate(text.strip(), BACKBONES[match.group(1)], blocks, int(match.group(3) or (4 if blocks else 1)))


def photo_set(root: Path, per_class: int | None) -> tuple[list[tuple[str, Path]], np.ndarray, list[str]]:
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    items, labels = [], []
    for index, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        for path in files[:per_class]:
            items.append((f"{name}/{path.name}", path))
            labels.append(index)
    return items, np.array(labels, dtype=np.int64), classes


def frozen_pass(candidate: Candidate, net: Any, items: list[tuple[str, Path]], cache: Path) -> tuple[np.ndarray, float]:
    """Embeddings (frozen) or the trunk's views (fine-tuned) of every photo, from the cache when there."""
    from vitrine.vision.transfer.features import embed_images
    from vitrine.vision.transfer.finetune import first_trained_block, view_features

    key = hashlib.sha256("\n".join(str(p) for _, p in items).encode()).hexdigest()[:12]
    file = cache / f"{net.model_version}-b{candidate.blocks}-v{candidate.views}-{key}.npz"
    if file.is_file():
        with np.load(file) as data:
            return data["x"], float(data["seconds"])
    started = time.perf_counter()
    if candidate.blocks:
        found = view_features(items, net, first_trained_block(net, candidate.blocks), views=candidate.views)
        x, positions = found.maps, found.positions
    else:
        embedded = embed_images(items, net)
        x, positions = embedded.matrix, embedded.positions
    seconds = time.perf_counter() - started
    if len(positions) != len(items):
        raise SystemExit(f"{len(items) - len(positions)} photos could not be read")
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, x=x, seconds=seconds)
    return x, seconds


def top_k(probabilities: np.ndarray, truth: np.ndarray, k: int) -> float:
    best = np.argsort(-probabilities, axis=1)[:, :k]
    return float(np.mean([t in row for t, row in zip(truth, best, strict=True)]))


def labelling_speed(net: Any, items: list[tuple[str, Path]]) -> float:
    """Photos per second through ``label_images`` (decoding included), median of three passes."""
    from vitrine.vision.labelling import label_images

    sample = items[:SPEED_PHOTOS]
    label_images(sample[:32], net)  # warm-up
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        label_images(sample, net)
        seconds.append(time.perf_counter() - started)
    return len(sample) / statistics.median(seconds)


def measure(candidate: Candidate, items: list[tuple[str, Path]], y: np.ndarray, n_classes: int, folds: int,
            max_folds: int, cache: Path) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    from vitrine.vision.backbones import load_backbone
    from vitrine.vision.transfer.datasets import stratified_split
    from vitrine.vision.transfer.finetune import FineTuneParams, first_trained_block, joined_model
    from vitrine.vision.transfer.head import FINE_TUNE_EPOCHS, HEAD_EPOCHS, fit_classifier, predict_batches

    net = load_backbone(candidate.backbone)
    x, frozen_seconds = frozen_pass(candidate, net, items, cache)
    fine = FineTuneParams(blocks=candidate.blocks, views=candidate.views) if candidate.blocks else None
    runs = []
    model = None
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        if fold >= max_folds:
            break
        keys = [items[i][0] for i in train]
        fit, val = stratified_split(keys, [str(v) for v in y[train]], 0.2, 0, salt="validation")
        started = time.perf_counter()
        model, history = fit_classifier(
            x, y, train[fit], train[val], n_classes=n_classes, mode="single", fine_tune=fine, backbone=net,
            epochs=FINE_TUNE_EPOCHS if fine else HEAD_EPOCHS,
        )
        seconds = time.perf_counter() - started
        probabilities = predict_batches(model, x[test, 0] if fine else x[test])
        runs.append({"fold": fold, "top1": top_k(probabilities, y[test], 1), "top5": top_k(probabilities, y[test], 5),
                     "seconds": seconds, "epochs": len(history["loss"])})
        print(f"{candidate.name} fold {fold}: top-1 {runs[-1]['top1']:.3f} top-5 {runs[-1]['top5']:.3f} "
              f"({runs[-1]['epochs']} epochs, {seconds:.0f} s)", file=sys.stderr, flush=True)
    labeller = net
    if fine and model is not None:
        joined = joined_model(net, model, first_trained_block(net, candidate.blocks))
        labeller = dataclasses.replace(net, model=joined, class_names=tuple(map(str, range(n_classes))))
    return {
        "candidate": candidate.name, "backbone": net.model_version, "blocks": candidate.blocks,
        "views": candidate.views, "photos": len(items), "frozen_pass_seconds": frozen_seconds, "folds": runs,
        "labelling_img_per_s": labelling_speed(labeller, items),
    }


def format_table(results: list[dict[str, Any]], photos: Path, folds: int) -> str:
    lines = [
        f"{photos} ({results[0]['photos']} photos), {folds}-fold CV (StratifiedKFold, shuffle, random_state 0); "
        f"{os.cpu_count()} CPUs",
        "| candidate | folds | top-1 mean [min-max] | top-5 mean | frozen pass s | train s/fold (median) | epochs "
        "(median) | labelling img/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        top1 = [f["top1"] for f in r["folds"]]
        lines.append(
            f"| {r['candidate']} | {len(top1)} | {statistics.mean(top1):.3f} [{min(top1):.3f}-{max(top1):.3f}] | "
            f"{statistics.mean(f['top5'] for f in r['folds']):.3f} | {r['frozen_pass_seconds']:.0f} | "
            f"{statistics.median(f['seconds'] for f in r['folds']):.0f} | "
            f"{statistics.median(f['epochs'] for f in r['folds']):.0f} | {r['labelling_img_per_s']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=TRAVEL_SCENES)
    parser.add_argument("--candidates", default="lite0,lite0-ft2,lite2,lite2-ft2")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-folds", type=int, default=None, help="run only the first K folds (time)")
    parser.add_argument("--per-class", type=int, default=None, help="the first N photos of each class")
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench-cache", help="frozen passes kept here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.photos.is_dir():
        print(f"no photos at {args.photos}: give --photos (class folders)", file=sys.stderr)
        return 1
    items, y, classes = photo_set(args.photos, args.per_class)
    results = [
        measure(parse_candidate(text), items, y, len(classes), args.folds, args.max_folds or args.folds, args.cache)
        for text in args.candidates.split(",")
    ]
    print(json.dumps(results, indent=2) if args.json else format_table(results, args.photos, args.folds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
