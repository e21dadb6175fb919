"""Vision backbones on this CPU: images per second and peak memory next to each model's arithmetic roof.

For ``efficientnet_lite0`` (its packaged ImageNet weights; random weights where the package is absent) and
``vgg16`` (``keras.applications.VGG16(weights=None)``: random weights cost the same arithmetic), at batch sizes
1, 16 and 64, the script times ``preprocess + predict_on_batch`` (what ``label_images`` runs per batch, image
decoding excluded), one warm-up then the median of ``--reps`` repetitions of about a second each (one batch
when a batch takes longer). The load average is printed: other processes on the CPU make the rates low.
Images: the real scene photos (``../shared/datasets/scene-photos``) when present, else generated ones.

The roof: the CPU's float32 peak, measured in the same run as the best of a few large numpy matrix products
(``2 n^3`` FLOP each), over each model's FLOP per image, counted from the Keras graph as 2 x multiply-accumulates
of its convolution and dense layers. (The usual "0.4 GFLOPs" of Lite0 and "15.5 GFLOPs" of VGG16 are
multiply-accumulates: 0.8 and 31 GFLOP in the matmul's units.) The Keras backend's own matmul rate is printed
too: TensorFlow's oneDNN kernels can beat numpy's OpenBLAS, so a share above 100% is possible. Each model runs
in its own process, so peak memory (the process's peak resident set, reset before each batch size where /proc
allows) holds that model only.

Run: ``.venv/bin/python benchmarks/bench_vision.py [--reps 3] [--batches 1,16,64] [--models a,b] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENE_PHOTOS = ROOT.parent / "shared" / "datasets" / "scene-photos"
MODELS = ("efficientnet_lite0", "vgg16")
TARGETS = {"efficientnet_lite0": 50.0, "vgg16": 4.0}  # images/s wanted on 2 cores
NOMINAL_GMAC = {"efficientnet_lite0": 0.4, "vgg16": 15.5}


def peak_gflops(n: int = 4096, reps: int = 5) -> float:
    """Best float32 GFLOP/s of ``n x n`` numpy matrix products (one warm-up first)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2.0 * n**3 / best / 1e9


def backend_gflops(n: int = 4096, reps: int = 5) -> float:
    """Best float32 GFLOP/s of ``n x n`` matrix products through ``keras.ops.matmul`` (the Keras backend)."""
    import keras

    rng = np.random.default_rng(0)
    a = keras.ops.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
    b = keras.ops.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
    keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
        best = min(best, time.perf_counter() - started)
    return 2.0 * n**3 / best / 1e9


def count_macs(model: Any) -> int:
    """Multiply-accumulates per image of the Conv2D, DepthwiseConv2D and Dense layers of a Keras model."""
    macs = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in ("Conv2D", "DepthwiseConv2D", "Dense"):
            continue
        out_shape = layer.output.shape
        in_channels = int(layer.input.shape[-1])
        spatial = int(np.prod(out_shape[1:-1])) if len(out_shape) > 2 else 1
        if kind == "Conv2D":
            kh, kw = layer.kernel_size
            macs += spatial * int(out_shape[-1]) * kh * kw * in_channels // layer.groups
        elif kind == "DepthwiseConv2D":
            kh, kw = layer.kernel_size
            macs += spatial * int(out_shape[-1]) * kh * kw
        else:
            macs += spatial * in_channels * int(out_shape[-1])
    return macs


def rss_gib() -> tuple[float, float]:
    """(current, peak) resident set of this process in GiB, from /proc/self/status."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, amount, _ = line.split()
            values[key] = int(amount) / 2**20
    return values.get("VmRSS:", float("nan")), values.get("VmHWM:", float("nan"))


def reset_peak_rss() -> bool:
    """Reset the peak resident set to the current one (Linux >= 4.0); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def sample_pixels(count: int, size: int = 224) -> tuple[np.ndarray, str]:
    """``count`` RGB images (float32, 0-255): the scene photos, one class after another, or generated ones."""
    from vitrine.vision.images import load_image

    if SCENE_PHOTOS.is_dir():
        folders = sorted(p for p in SCENE_PHOTOS.iterdir() if p.is_dir())
        files = [sorted(folder.glob("*.jpg")) for folder in folders]
        chosen = [f[i] for i in range(max(len(f) for f in files)) for f in files if i < len(f)][:count]
        loaded = [load_image(path, size).pixels for path in chosen]
        good = [p for p in loaded if p is not None]
        if good:
            stack = np.stack(good)
            return np.resize(stack, (count, *stack.shape[1:])), f"{len(good)} scene photos"
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 255, size=(count, 8, 8, 3)).astype(np.float32)
    pixels = np.repeat(np.repeat(base, size // 8, axis=1), size // 8, axis=2)
    pixels += rng.normal(0, 12, size=pixels.shape).astype(np.float32)
    return np.clip(pixels, 0, 255), "generated images"


def decode_rate(limit: int = 120) -> float | None:
    """Images per second of ``load_image`` on one thread (the scene photos), None without them."""
    from vitrine.vision.images import load_image

    if not SCENE_PHOTOS.is_dir():
        return None
    paths = sorted(SCENE_PHOTOS.glob("*/*.jpg"))[::10][:limit]
    started = time.perf_counter()
    for path in paths:
        load_image(path, 224)
    return len(paths) / (time.perf_counter() - started)


def build(name: str) -> tuple[Any, Any, str]:
    """(Keras model with outputs [embedding, probabilities], preprocess function, weights description)."""
    import keras

    from vitrine.vision import efficientnet_lite, vgg16

    if name == "efficientnet_lite0":
        from vitrine.vision.backbones import BackboneError, load_backbone

        try:
            backbone = load_backbone("efficientnet_lite0")
            return backbone.model, backbone.preprocess, "ImageNet (packaged)"
        except BackboneError:
            return efficientnet_lite.build_efficientnet_lite0(), efficientnet_lite.preprocess, "random"
    base = keras.applications.VGG16(weights=None, include_top=True, classes=1000)
    embedding = keras.layers.GlobalAveragePooling2D(name="embedding")(base.get_layer("block5_pool").output)
    return keras.Model(base.inputs[0], [embedding, base.output], name="vgg16"), vgg16.preprocess, "random"


def worker(name: str, batches: list[int], reps: int) -> list[dict[str, Any]]:
    """Time one model at each batch size (run in its own process)."""
    model, preprocess, weights = build(name)
    macs = count_macs(model)
    matmul = backend_gflops()
    pixels, source = sample_pixels(max(batches))
    rows = []
    for batch in batches:
        x = pixels[:batch]

        def run(calls: int, x: np.ndarray = x) -> float:
            started = time.perf_counter()
            for _ in range(calls):
                outputs = model.predict_on_batch(preprocess(x))
                np.asarray(outputs[0])
            return time.perf_counter() - started

        resettable = reset_peak_rss()
        first = run(1)  # warm-up: traces the graph for this batch shape
        # A repetition runs enough batches to last about a second (one batch when a batch takes longer).
        calls = 1 if first > 2.0 else max(1, min(64, round(1.0 / max(run(1), 1e-4))))
        times = [run(calls) for _ in range(reps)]
        seconds = statistics.median(times)
        rows.append(
            {
                "model": name,
                "weights": weights,
                "images": source,
                "batch": batch,
                "images_per_s": calls * batch / seconds,
                "seconds_per_batch": seconds / calls,
                "peak_rss_gib": rss_gib()[1],
                "peak_is_per_batch": resettable,
                "gmac_per_image": macs / 1e9,
                "backend_matmul_gflops": matmul,
            }
        )
    return rows


def run_worker(name: str, batches: list[int], reps: int) -> list[dict[str, Any]]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    args = [sys.executable, __file__, "--worker", name, "--batches", ",".join(map(str, batches)), "--reps", str(reps)]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} benchmark failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    if args.worker:
        print(json.dumps(worker(args.worker, batches, args.reps)))
        return

    import threadpoolctl

    blas = threadpoolctl.threadpool_info()
    load_before = os.getloadavg()[0]
    gflops = peak_gflops()
    libraries = ", ".join(f"{b['internal_api']} {b.get('architecture', '')} x{b['num_threads']}" for b in blas)
    print(f"CPU: {os.cpu_count()} cores; numpy float32 matmul peak {gflops:.1f} GFLOP/s ({libraries})")
    if os.environ.get("OPENBLAS_CORETYPE"):
        print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} is set: the matmul peak may be understated")
    rate = decode_rate()
    if rate is not None:
        print(f"decode (load_image, 1 thread, scene photos): {rate:.0f} images/s")
    rows = [row for name in args.models.split(",") for row in run_worker(name, batches, args.reps)]
    print(f"images: {rows[0]['images']}; median of {args.reps} after a warm-up; roof = numpy peak / (2 x GMAC); "
          f"'of keras': share of the Keras backend's own matmul rate")
    for name in dict.fromkeys(row["model"] for row in rows):
        matmul = next(row["backend_matmul_gflops"] for row in rows if row["model"] == name)
        print(f"  (in the {name} process, keras.ops.matmul reached {matmul:.1f} GFLOP/s)")
    header = (
        f"{'model':<19}{'weights':<21}{'GMAC/img':>9}{'batch':>6}{'img/s':>9}{'ms/batch':>10}"
        f"{'roof img/s':>11}{'of roof':>8}{'of keras':>9}{'peak RSS':>10}{'target':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        roof = gflops / (2.0 * row["gmac_per_image"])
        row["roof_images_per_s"] = roof
        row["share_of_roof"] = row["images_per_s"] / roof
        row["share_of_backend_roof"] = row["images_per_s"] * 2.0 * row["gmac_per_image"] / row["backend_matmul_gflops"]
        target = TARGETS.get(row["model"])
        met = "" if target is None else ("ok" if row["images_per_s"] >= target else f"<{target:g}")
        print(
            f"{row['model']:<19}{row['weights']:<21}{row['gmac_per_image']:>9.3f}{row['batch']:>6}"
            f"{row['images_per_s']:>9.1f}{1000 * row['seconds_per_batch']:>10.1f}{roof:>11.1f}"
            f"{100 * row['share_of_roof']:>7.1f}%{100 * row['share_of_backend_roof']:>8.1f}%"
            f"{row['peak_rss_gib']:>8.2f}Gi{met:>8}"
        )
    load_after = os.getloadavg()[0]
    print(f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after (this benchmark included)", end="")
    print(": other processes were using the CPU, the rates may be understated" if load_before > 0.5 else "")
    for name in dict.fromkeys(row["model"] for row in rows):
        counted = next(row["gmac_per_image"] for row in rows if row["model"] == name)
        print(f"{name}: {counted:.3f} GMAC/image counted (nominal {NOMINAL_GMAC.get(name, float('nan'))} GMAC)")
    if args.json:
        print(json.dumps({"peak_gflops": gflops, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
