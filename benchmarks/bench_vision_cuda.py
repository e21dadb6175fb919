"""Vision backbones on a CUDA GPU through Keras' PyTorch backend: images per second next to the fp32 roof.

Self-contained: it needs keras, numpy, torch with CUDA, and the vitrine.vision modules that build the networks
(``efficientnet_lite``, ``vgg16``, ``images``), none of which imports TensorFlow (checked at run time: the
script stops if TensorFlow got imported). ``KERAS_BACKEND=torch`` is set before Keras is imported.

For ``efficientnet_lite0`` and ``vgg16`` (random weights: the arithmetic is the same as with trained ones), at
batch sizes 1, 16, 64 and 256, it times the forward pass ``model(x, training=False)`` under ``torch.no_grad()``
on a batch already on the GPU (preprocessed on the host once; host decoding and transfer excluded), one
warm-up, then the median of ``--reps`` repetitions of about half a second each, with CUDA synchronisation
around each. Peak GPU memory is ``torch.cuda.max_memory_allocated`` per row.

The roof: float32 FLOP/s of a large ``torch.matmul`` on the GPU with TF32 off (true fp32), and with TF32 on
(which cuDNN convolutions use by default, ``torch.backends.cudnn.allow_tf32``), over the model's FLOP per
image (2 x multiply-accumulates of its convolution and dense layers, counted from the Keras graph).

Run on a machine with a CUDA GPU: ``python benchmarks/bench_vision_cuda.py [--reps 5] [--batches 1,16,64,256]``.
Without torch or without a CUDA device it stops at once with a message saying which.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENE_PHOTOS = ROOT.parent / "shared" / "datasets" / "scene-photos"
MODELS = ("efficientnet_lite0", "vgg16")


def require_cuda_torch() -> Any:
    """Import torch and check that it sees a CUDA device; stop with a clear message otherwise."""
    if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != "torch":
        raise SystemExit("bench_vision_cuda.py: Keras was imported before KERAS_BACKEND=torch could be set")
    os.environ["KERAS_BACKEND"] = "torch"
    try:
        import torch
    except ImportError as exc:
        raise SystemExit(
            f"bench_vision_cuda.py needs PyTorch built with CUDA (pip install torch), and a CUDA GPU: {exc}"
        ) from exc
    if not torch.cuda.is_available():
        raise SystemExit(
            f"bench_vision_cuda.py: no CUDA device visible (torch {torch.__version__}, "
            f"built for CUDA {torch.version.cuda or 'none: a CPU-only build'}); run it on a machine with a GPU"
        )
    return torch


def count_macs(model: Any) -> int:
    """Multiply-accumulates per image of the Conv2D, DepthwiseConv2D and Dense layers of a Keras model."""
    import numpy as np

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


def matmul_tflops(torch: Any, tf32: bool, n: int = 8192, reps: int = 10) -> float:
    """Best TFLOP/s of ``n x n`` float32 matrix products on the GPU (TF32 tensor cores on or off)."""
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a = torch.randn(n, n, device="cuda", dtype=torch.float32)
        b = torch.randn(n, n, device="cuda", dtype=torch.float32)
        torch.matmul(a, b)
        torch.cuda.synchronize()
        best = float("inf")
        for _ in range(reps):
            start = time.perf_counter()
            torch.matmul(a, b)
            torch.cuda.synchronize()
            best = min(best, time.perf_counter() - start)
        del a, b
        torch.cuda.empty_cache()
        return 2.0 * n**3 / best / 1e12
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous


def sample_pixels(count: int, size: int = 224) -> tuple[Any, str]:
    """``count`` RGB images (float32, 0-255): the scene photos when present, else generated ones."""
    import numpy as np

    from vitrine.vision.images import load_image

    if SCENE_PHOTOS.is_dir():
        every = sorted(SCENE_PHOTOS.glob("*/*.jpg"))
        paths = every[:: max(1, len(every) // 64)][:64]
        good = [p for p in (load_image(path, size).pixels for path in paths) if p is not None]
        if good:
            stack = np.stack(good)
            return np.resize(stack, (count, *stack.shape[1:])), f"{len(good)} scene photos, tiled"
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, size=(count, size, size, 3)).astype(np.float32), "generated images"


def build(name: str) -> tuple[Any, Any]:
    """(Keras model with outputs [embedding, probabilities], numpy preprocess function), random weights."""
    import keras

    from vitrine.vision import efficientnet_lite, vgg16

    if name == "efficientnet_lite0":
        return efficientnet_lite.build_efficientnet_lite0(), efficientnet_lite.preprocess
    base = keras.applications.VGG16(weights=None, include_top=True, classes=1000)
    embedding = keras.layers.GlobalAveragePooling2D(name="embedding")(base.get_layer("block5_pool").output)
    return keras.Model(base.inputs[0], [embedding, base.output], name="vgg16"), vgg16.preprocess


def measure(torch: Any, name: str, batches: list[int], reps: int, pixels: Any) -> list[dict[str, Any]]:
    model, preprocess = build(name)
    macs = count_macs(model)
    rows = []
    for batch in batches:
        x = torch.from_numpy(preprocess(pixels[:batch])).to("cuda")

        def run(calls: int, x: Any = x) -> float:
            torch.cuda.synchronize()
            start = time.perf_counter()
            with torch.no_grad():
                for _ in range(calls):
                    model(x, training=False)
            torch.cuda.synchronize()
            return time.perf_counter() - start

        torch.cuda.reset_peak_memory_stats()
        run(2)  # warm-up: cuDNN picks its algorithms
        calls = max(1, min(200, round(0.5 / max(run(1), 1e-5))))
        seconds = statistics.median(run(calls) for _ in range(reps)) / calls
        rows.append(
            {
                "model": name,
                "batch": batch,
                "images_per_s": batch / seconds,
                "ms_per_batch": 1000 * seconds,
                "peak_gpu_gib": torch.cuda.max_memory_allocated() / 2**30,
                "gmac_per_image": macs / 1e9,
            }
        )
        del x
    torch.cuda.empty_cache()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batches", default="1,16,64,256")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    torch = require_cuda_torch()
    import keras

    if keras.backend.backend() != "torch":
        raise SystemExit(f"Keras runs on {keras.backend.backend()}, not torch: unset KERAS_BACKEND elsewhere")
    pixels, source = sample_pixels(max(batches))
    for model_name in args.models.split(","):
        build(model_name)  # imports every module the measurement needs
    if "tensorflow" in sys.modules:
        raise SystemExit("TensorFlow got imported: this benchmark must run on keras + torch alone")

    device = torch.cuda.get_device_properties(0)
    fp32 = matmul_tflops(torch, tf32=False)
    tf32 = matmul_tflops(torch, tf32=True)
    print(f"device: {torch.cuda.get_device_name(0)} ({device.total_memory / 2**30:.0f} GiB, "
          f"{device.multi_processor_count} SMs); torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"keras {keras.__version__} on {keras.backend.backend()}")
    print(f"roof: fp32 matmul {fp32:.1f} TFLOP/s (TF32 off), TF32 matmul {tf32:.1f} TFLOP/s; "
          f"cudnn.allow_tf32={torch.backends.cudnn.allow_tf32} (convolutions may use TF32)")
    print(f"images: {source}; median of {args.reps} after a warm-up; roof img/s = fp32 TFLOP/s / (2 x GMAC)")
    header = (f"{'model':<19}{'GMAC/img':>9}{'batch':>6}{'img/s':>10}{'ms/batch':>10}"
              f"{'fp32 roof':>11}{'of roof':>9}{'peak GPU':>10}")
    print(header)
    print("-" * len(header))
    for model_name in args.models.split(","):
        for row in measure(torch, model_name, batches, args.reps, pixels):
            roof = fp32 * 1e3 / (2.0 * row["gmac_per_image"])
            print(
                f"{row['model']:<19}{row['gmac_per_image']:>9.3f}{row['batch']:>6}{row['images_per_s']:>10.1f}"
                f"{row['ms_per_batch']:>10.2f}{roof:>11.0f}{100 * row['images_per_s'] / roof:>8.1f}%"
                f"{row['peak_gpu_gib']:>8.2f}Gi"
            )


if __name__ == "__main__":
    main()
