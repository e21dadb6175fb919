"""Transfer head quality on the scene photos: per-class and overall top-1 / top-5 and the confusion, over seeds.

Trains ``train_head`` with the defaults of ``vitrine transfer train --split train`` (the 80% training part of the
stratified split, split seed 0) once per training seed, scores each head on the 20% test part with
``evaluate_head`` (what ``vitrine transfer evaluate`` prints), then prints the median and range over the seeds,
per class and overall, and the confusion summed over the seeds. ``--split-seeds`` also varies the split (split
seed = training seed), which shows how much the 240 test photos themselves move the score.

The photos are embedded once (the backbone is frozen; every seed reuses the cache), so the run costs one
embedding pass plus a short training per seed. Accuracy, not speed, is measured.

Run: ``.venv/bin/python benchmarks/bench_vision_head.py [--seeds 0,1,2,3,4] [--split-seeds] [--photos DIR]
[--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENE_PHOTOS = ROOT.parent / "shared" / "datasets" / "scene-photos"


def measure(photos: Path, seeds: list[int], vary_split: bool) -> dict[str, Any]:
    """Train and evaluate one head per seed; the reports and their summaries."""
    from vitrine.vision.backbones import load_backbone
    from vitrine.vision.transfer import EmbeddingCache, evaluate_head, train_head

    backbone = load_backbone()
    cache = EmbeddingCache()
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            out = Path(folder) / f"head-{seed}"
            report = train_head(photos, out, backbone=backbone, split="train", seed=seed, cache=cache,
                                split_seed=seed if vary_split else 0)
            evaluation = evaluate_head(photos, out, backbone=backbone, cache=cache)
            runs.append({"seed": seed, "epochs": report.epochs_run, "best_epoch": report.best_epoch,
                         "evaluation": evaluation.to_dict()})
            print(f"seed {seed}: top-1 {evaluation.top1:.3f} top-5 {evaluation.top5:.3f} "
                  f"({report.epochs_run} epochs, best {report.best_epoch})", file=sys.stderr, flush=True)
    return {"photos": str(photos), "backbone": backbone.model_version, "vary_split": vary_split, "runs": runs}


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}]"


def format_table(result: dict[str, Any]) -> str:
    """Per class: images, top-1 median [min-max] over seeds; overall top-1 and top-5; summed confusion."""
    runs = [run["evaluation"] for run in result["runs"]]
    classes = runs[0]["classes"]
    width = max(len(name) for name in classes)
    split = "split seed = training seed" if result["vary_split"] else "split seed 0 (the CLI's --split train/test)"
    lines = [
        f"backbone {result['backbone']}; {len(runs)} seeds {[run['seed'] for run in result['runs']]}; {split}",
        f"{'class':<{width}}  images  top-1 median [range]",
    ]
    for name in classes:
        values = [run["per_class"][name]["top1"] for run in runs]
        lines.append(f"{name:<{width}}  {runs[0]['per_class'][name]['images']:>6}  {_spread(values)}")
    lines.append(f"{'overall':<{width}}  {runs[0]['n_images']:>6}  top-1 {_spread([r['top1'] for r in runs])}"
                 f"   top-5 {_spread([r['top5'] for r in runs])}")
    lines.append("confusion summed over the seeds (rows: true class, columns: predicted, in class order)")
    total = [[sum(run["confusion"][i][j] for run in runs) for j in range(len(classes))] for i in range(len(classes))]
    lines.append(f"{'':<{width}}      {' '.join(f'{i:>3}' for i in range(len(classes)))}")
    for i, (name, row) in enumerate(zip(classes, total, strict=True)):
        lines.append(f"{name:<{width}} {i:>3}  {' '.join(f'{c:>3}' for c in row)}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=SCENE_PHOTOS)
    parser.add_argument("--seeds", default="0,1,2,3,4", help="training seeds, comma-separated")
    parser.add_argument("--split-seeds", action="store_true", help="vary the 80/20 split with the seed too")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.photos.is_dir():
        print(f"no photos at {args.photos}: give --photos (class folders)", file=sys.stderr)
        return 1
    result = measure(args.photos, [int(s) for s in args.seeds.split(",")], args.split_seeds)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
