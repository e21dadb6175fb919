"""Transfer learning: datasets and splits, embedding cache, head training / evaluation / labelling, distillation,
and the CUDA benchmark script's import hygiene.

Generated images (red vs blue with noise, plus stripes for multilabel) always run; the measured quality on the
12-class scene photos (``../shared/datasets/scene-photos``) is skipped with a message where they are absent.
EfficientNet-Lite0 is loaded once for the module and the 1,200 scene photos are embedded once (the slow part).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vitrine.vision.backbones import Backbone
from vitrine.vision.labelling import EMBEDDING_COLUMNS, ERROR_COLUMNS, LABEL_COLUMNS, LabellingResult, label_images
from vitrine.vision.transfer import (
    DatasetError,
    DistilledLabeller,
    EmbeddingCache,
    HeadError,
    HeadLabeller,
    SplitSpec,
    agreement,
    embed_images,
    evaluate_head,
    head_model_version,
    read_dataset,
    read_head_info,
    score_predictions,
    split_dataset,
    stratified_split,
    train_distilled,
    train_head,
)
from vitrine.vision.transfer import features as features_module

ROOT = Path(__file__).resolve().parents[1]
SCENE_PHOTOS = ROOT.parent / "shared" / "datasets" / "scene-photos"
CUDA_BENCH = ROOT / "benchmarks" / "bench_vision_cuda.py"
# Target 0.85, not reached by a head on frozen Lite0 features. Measured with the defaults on the 80/20 split of seed 0
# (benchmarks/bench_vision_head.py): 0.829 with training seed 0 (this test), 0.800-0.829 over training seeds 0-4
# (median 0.817), 0.767-0.846 over split seeds 0-4; top-5 0.988-0.996. Flip / multi-crop augmentation with test-time
# averaging, ImageNet probabilities or mid-level features as extra inputs, label smoothing, standardised inputs and a
# logistic regression all scored within that noise (0.79-0.84): ImageNet features of Lite0 confuse glacier/mountain
# and the living room with the bedroom and dining room. The floor sits below the worst seed seen (0.796).
SCENE_TOP1_FLOOR = 0.78
SCENE_TOP5_FLOOR = 0.97

needs_scenes = pytest.mark.skipif(
    not SCENE_PHOTOS.is_dir(), reason=f"the scene photos are absent ({SCENE_PHOTOS}): quality not measured"
)


# --- generated data -------------------------------------------------------------------------------------------


def _image(rng: np.random.Generator, colour: tuple[int, int, int], striped: bool, size: int = 64) -> Image.Image:
    pixels = np.empty((size, size, 3), dtype=np.float32)
    pixels[:] = colour
    pixels += rng.normal(0, 30, size=pixels.shape)
    if striped:
        pixels[::8] = 0
        pixels[1::8] = 0
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


RED, BLUE = (210, 40, 40), (40, 60, 210)


@pytest.fixture(scope="module")
def colour_folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``red/`` and ``blue/``, 20 noisy PNGs each."""
    root = tmp_path_factory.mktemp("colours")
    rng = np.random.default_rng(1)
    for name, colour in (("red", RED), ("blue", BLUE)):
        (root / name).mkdir()
        for i in range(20):
            _image(rng, colour, striped=False).save(root / name / f"{name}_{i:02d}.png")
    (root / "notes.txt").write_text("not a class folder")
    return root


@pytest.fixture(scope="module")
def multilabel_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 images: red or blue, striped or plain; labels like ``red|striped`` in ``labels.csv``."""
    root = tmp_path_factory.mktemp("multi")
    (root / "img").mkdir()
    rng = np.random.default_rng(2)
    rows = []
    for i in range(40):
        colour, striped = (RED, "red") if i % 2 else (BLUE, "blue"), (i // 2) % 2 == 1
        _image(rng, colour[0], striped).save(root / "img" / f"{i:02d}.png")
        rows.append({"image": f"img/{i:02d}.png", "labels": "|".join([colour[1], *(["striped"] if striped else [])])})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)
    return root / "labels.csv"



@pytest.fixture(scope="module")
def cache() -> EmbeddingCache:
    """Shared by the module: every image is embedded once."""
    return EmbeddingCache()


@pytest.fixture(scope="module")
def colour_model(
    tmp_path_factory: pytest.TempPathFactory, colour_folders: Path, lite0: Backbone, cache: EmbeddingCache
) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("models") / "colours"
    report = train_head(colour_folders, out, backbone=lite0, split="train", cache=cache, epochs=40, batch_size=8)
    return out, report.to_dict()


# --- datasets and splits (no network) -------------------------------------------------------------------------


def test_read_class_folders(colour_folders: Path) -> None:
    data = read_dataset(colour_folders)
    assert data.mode == "single"
    assert data.classes == ("blue", "red")
    assert len(data) == 40
    assert data.images[0] == "blue/blue_00.png"
    assert data.class_counts() == {"blue": 20, "red": 20}
    assert list(data.targets()[:2]) == [0, 0]


def test_read_csv(multilabel_csv: Path) -> None:
    for source in (multilabel_csv, multilabel_csv.parent):
        data = read_dataset(source)
        assert data.mode == "multi"
        assert data.classes == ("blue", "red", "striped")
        assert data.labels[3] == ("red", "striped")
        assert data.targets()[3].tolist() == [0.0, 1.0, 1.0]


def test_bad_datasets(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "only" / "a.png")
    with pytest.raises(DatasetError, match="at least 2"):
        read_dataset(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("file,tags\na.png,x\n")
    with pytest.raises(DatasetError, match="image,labels"):
        read_dataset(bad)
    twice = tmp_path / "twice.csv"
    twice.write_text("image,labels\na.png,x\na.png,y\n")
    with pytest.raises(DatasetError, match="twice"):
        read_dataset(twice)
    with pytest.raises(DatasetError, match="no dataset"):
        read_dataset(tmp_path / "absent")


def test_split_is_stratified_reproducible_and_complementary(colour_folders: Path) -> None:
    data = read_dataset(colour_folders)
    train = split_dataset(data, SplitSpec("train", seed=3))
    test = split_dataset(data, SplitSpec("test", seed=3))
    assert len(train) == 32 and len(test) == 8
    assert test.class_counts() == {"blue": 4, "red": 4}
    assert set(train.images).isdisjoint(test.images)
    assert set(train.images) | set(test.images) == set(data.images)
    assert split_dataset(data, SplitSpec("test", seed=3)).images == test.images
    assert split_dataset(data, SplitSpec("test", seed=4)).images != test.images
    assert SplitSpec("train", 3).complement() == SplitSpec("test", 3)
    assert split_dataset(data, SplitSpec("all")) is data


def test_split_is_stable_when_images_are_added() -> None:
    keys = [f"c/{i}.jpg" for i in range(100)]
    _, held = stratified_split(keys, ["c"] * 100, 0.2, seed=0)
    _, held_more = stratified_split([*keys, "c/new.jpg"], ["c"] * 101, 0.2, seed=0)
    moved = {keys[i] for i in held} ^ {([*keys, "c/new.jpg"])[i] for i in held_more}
    assert len(moved) <= 2  # at most the new image in and one out
    kept, held_one = stratified_split(["a", "b"], ["x", "x"], 0.2, seed=0)
    assert len(held_one) == 1 and len(kept) == 1  # a class of two keeps one image on each side
    kept, held_none = stratified_split(["a"], ["x"], 0.2, seed=0)
    assert len(held_none) == 0


def test_score_predictions_single_and_multi() -> None:
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.2, 0.7, 0.1]])
    report = score_predictions(probabilities, np.array([0, 2, 1, 1]), ("a", "b", "c"), "single")
    assert report.top1 == pytest.approx(0.75)
    assert report.k == 3 and report.top5 == 1.0
    assert report.confusion == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert report.per_class["b"]["top1"] == pytest.approx(0.5)
    assert "top-1 0.750" in report.format()
    assert json.loads(json.dumps(report.to_dict()))["confusion"][1] == [1, 1, 0]

    truth = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float32)
    guess = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.7], [0.1, 0.1]])
    multi = score_predictions(guess, truth, ("x", "y"), "multi")
    # x: tp 2, fp 1, fn 0; y: tp 1, fp 0, fn 1
    assert multi.precision_micro == pytest.approx(3 / 4)
    assert multi.recall_micro == pytest.approx(3 / 4)
    assert multi.precision_macro == pytest.approx((2 / 3 + 1) / 2)
    assert multi.recall_macro == pytest.approx((1 + 0.5) / 2)
    assert multi.f1_macro == pytest.approx((0.8 + 2 / 3) / 2)
    assert "f1_micro" in multi.to_dict() and "confusion" not in multi.to_dict()


def test_distillation_on_synthetic_features(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, size=(4, 16))
    groups = rng.integers(0, 4, size=300)
    features = centres[groups] + rng.normal(0, 1, size=(300, 16))
    names = [("sea", "sun"), ("snow", "ski"), ("city",), ("sea", "city")]
    label_sets = [names[g] for g in groups]
    model = train_distilled(features[:200], [*label_sets[:200][:-1], ("once",)], teacher="synthetic")
    assert "once" in model.dropped and "once" not in model.classes
    top = model.predict_top_k(features[200:], k=2)
    score = agreement([[label for label, _ in row] for row in top], label_sets[200:], k=2)
    assert score.recall > 0.95 and score.reference_top1_in_top_k > 0.95, score.format()
    exact = np.mean([set(got) == set(want) for got, want in
                     zip(model.predict_label_sets(features[200:]), label_sets[200:], strict=True)])
    assert exact > 0.9
    path = model.save(tmp_path / "distilled.joblib")
    again = DistilledLabeller.load(path)
    assert again.classes == model.classes and again.teacher == "synthetic"
    np.testing.assert_allclose(again.predict_proba(features[200:]), model.predict_proba(features[200:]))
    assert again.predict_label_sets(features[200:201])[0]


# --- training on generated images -----------------------------------------------------------------------------


def test_train_and_evaluate_single_label(colour_model: tuple[Path, dict], colour_folders: Path,
                                         lite0: Backbone, cache: EmbeddingCache) -> None:
    out, report = colour_model
    assert report["n_images"] == 32 and report["n_errors"] == 0
    assert report["n_validation"] == 6 and report["n_train"] == 26
    assert report["best_epoch"] <= report["epochs_run"]
    assert sorted(p.name for p in out.iterdir()) == ["classes.txt", "head.keras", "model.json", "train_report.json"]
    assert (out / "classes.txt").read_text().split() == ["blue", "red"]
    info = read_head_info(out)
    assert info.mode == "single" and info.split == SplitSpec("train", 0, 0.2)
    assert info.backbone == "efficientnet_lite0" and info.backbone_weights is None
    assert info.model_version.startswith(f"{lite0.model_version}+head-")
    assert head_model_version(out) == report["model_version"]
    evaluation = evaluate_head(colour_folders, out, backbone=lite0, cache=cache)
    assert evaluation.split.startswith("test") and evaluation.n_images == 8
    assert evaluation.top1 == 1.0, evaluation.format()
    assert evaluation.confusion == [[4, 0], [0, 4]]
    on_train = evaluate_head(colour_folders, out, split="train", backbone=lite0, cache=cache)
    assert on_train.n_images == 32


def test_head_labeller_matches_label_images_columns(colour_model: tuple[Path, dict], colour_folders: Path,
                                                   lite0: Backbone, tmp_path: Path) -> None:
    out, report = colour_model
    labeller = HeadLabeller.load(out, backbone=lite0)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    items = [("r", colour_folders / "red" / "red_01.png"), ("b", colour_folders / "blue" / "blue_01.png"),
             ("x", broken), ("m", tmp_path / "missing.png")]
    result = labeller.label_images(items, top_k=5)
    assert isinstance(result, LabellingResult)
    assert tuple(result.labels.columns) == LABEL_COLUMNS
    assert tuple(result.embeddings.columns) == EMBEDDING_COLUMNS
    assert tuple(result.errors.columns) == ERROR_COLUMNS
    assert result.model_version == report["model_version"]
    assert set(result.labels["model_version"]) == {report["model_version"]}
    assert sorted(result.errors["image_id"]) == ["m", "x"]
    assert dict(zip(result.errors["image_id"], result.errors["reason"], strict=True)) == {
        "x": "not_an_image", "m": "missing_file"}
    top = result.labels[result.labels["rank"] == 1].set_index("image_id")["label"].to_dict()
    assert top == {"r": "red", "b": "blue"}
    assert result.labels.groupby("image_id")["rank"].apply(list).to_dict() == {"b": [1, 2], "r": [1, 2]}
    assert result.labels["probability"].dtype == np.float64
    # the embeddings are the backbone's, as label_images gives them
    plain = label_images(items[:2], lite0)
    np.testing.assert_allclose(np.stack(list(result.embeddings["embedding"])), plain.embedding_matrix(), atol=1e-5)
    assert result.embeddings["content_hash"].tolist() == plain.embeddings["content_hash"].tolist()


def test_save_load_round_trip(colour_model: tuple[Path, dict], lite0: Backbone, tmp_path: Path) -> None:
    import keras

    out, _ = colour_model
    labeller = HeadLabeller.load(out, backbone=lite0)
    vectors = np.random.default_rng(0).uniform(0, 3, size=(5, lite0.embedding_size)).astype(np.float32)
    again = HeadLabeller.load(out)  # loads the backbone from the recorded name and weights
    np.testing.assert_allclose(labeller.predict_embeddings(vectors), again.predict_embeddings(vectors), atol=1e-6)
    head = keras.saving.load_model(out / "head.keras")
    np.testing.assert_allclose(np.asarray(head.predict(vectors, verbose=0)), again.predict_embeddings(vectors),
                               atol=1e-6)
    assert labeller.predict_embeddings(vectors[:0]).shape == (0, 2)
    # a replaced head file no longer matches its recorded version
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("model.json", "classes.txt"):
        (copy / name).write_bytes((out / name).read_bytes())
    head.save(copy / "head.keras")
    with pytest.raises(HeadError, match="not the file"):
        HeadLabeller.load(copy, backbone=lite0)
    with pytest.raises(HeadError, match=r"no model\.json"):
        HeadLabeller.load(tmp_path, backbone=lite0)


def test_train_multilabel_csv(multilabel_csv: Path, lite0: Backbone, cache: EmbeddingCache, tmp_path: Path) -> None:
    out = tmp_path / "multi"
    report = train_head(multilabel_csv, out, backbone=lite0, split="train", cache=cache, epochs=60, batch_size=8)
    assert report.mode == "multi" and report.classes == ("blue", "red", "striped")
    assert report.validation_metric == "f1_micro"
    evaluation = evaluate_head(multilabel_csv, out, backbone=lite0, cache=cache)
    assert evaluation.mode == "multi" and evaluation.n_images == 8
    assert evaluation.f1_micro is not None and evaluation.f1_macro is not None
    assert evaluation.f1_micro >= 0.9, evaluation.format()
    assert evaluation.f1_macro >= 0.8, evaluation.format()
    labels = HeadLabeller.load(out, backbone=lite0).label_images([("s", multilabel_csv.parent / "img" / "03.png")])
    assert set(labels.labels["label"]) == {"blue", "red", "striped"}  # top-5 of three labels: all three


def test_train_without_validation_runs_all_epochs(colour_folders: Path, lite0: Backbone, cache: EmbeddingCache,
                                                  tmp_path: Path) -> None:
    report = train_head(colour_folders, tmp_path / "m", backbone=lite0, validation_split=0.0, epochs=3, cache=cache)
    assert report.epochs_run == 3 and report.n_validation == 0 and report.validation_score is None
    assert report.split.part == "all" and report.n_images == 40
    assert "epochs 3" in report.format()


def test_embedding_cache_skips_the_network(colour_folders: Path, lite0: Backbone, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    items = read_dataset(colour_folders).items()[:6]
    disk = EmbeddingCache(tmp_path / "cache")
    first = embed_images(items, lite0, cache=disk)
    assert (tmp_path / "cache" / f"{lite0.model_version}.npz").is_file()

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network ran although every embedding was cached")

    monkeypatch.setattr(features_module, "label_images", no_network)
    again = embed_images(items, lite0, cache=EmbeddingCache(tmp_path / "cache"))  # a fresh cache reads the file
    np.testing.assert_array_equal(first.matrix, again.matrix)
    assert again.image_ids == first.image_ids and again.content_hashes == first.content_hashes


# --- measured quality on the scene photos ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenes(lite0: Backbone, cache: EmbeddingCache) -> Iterator[LabellingResult]:
    """Every scene photo labelled once by Lite0 (its embeddings go into the module's cache)."""
    if not SCENE_PHOTOS.is_dir():
        pytest.skip(f"the scene photos are absent ({SCENE_PHOTOS})")
    data = read_dataset(SCENE_PHOTOS)
    started = time.perf_counter()
    result = label_images(data.items(), lite0, batch_size=64)
    print(f"\nembedded {len(data)} scene photos in {time.perf_counter() - started:.1f} s")
    cache.add_result(result)
    yield result


@pytest.fixture(scope="module")
def scene_model(
    scenes: LabellingResult, lite0: Backbone, cache: EmbeddingCache, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict, float]:
    """A head trained on the train part (80%) of the scene photos: (folder, report, seconds)."""
    out = tmp_path_factory.mktemp("scene-model") / "scenes"
    started = time.perf_counter()
    report = train_head(SCENE_PHOTOS, out, backbone=lite0, split="train", cache=cache)
    return out, report.to_dict(), time.perf_counter() - started


@pytest.mark.shared
@needs_scenes
def test_scene_quality(scene_model: tuple[Path, dict, float], lite0: Backbone, cache: EmbeddingCache) -> None:
    out, report, seconds = scene_model
    started = time.perf_counter()
    evaluation = evaluate_head(SCENE_PHOTOS, out, backbone=lite0, cache=cache)
    print(f"\ntrained in {seconds:.1f} s: {report['epochs_run']} epochs (best {report['best_epoch']}), validation "
          f"top-1 {report['validation_score']:.3f}\n{evaluation.format()}\n"
          f"(evaluated in {time.perf_counter() - started:.1f} s)")
    (out / "evaluation.json").write_text(json.dumps(evaluation.to_dict()))
    assert report["n_images"] == 960 and report["n_train"] == 768 and report["n_validation"] == 192
    assert evaluation.n_images == 240 and evaluation.n_errors == 0
    assert all(row["images"] == 20 for row in evaluation.per_class.values())
    assert evaluation.top1 is not None and evaluation.top5 is not None and evaluation.confusion is not None
    assert evaluation.top1 >= SCENE_TOP1_FLOOR, evaluation.format()
    assert evaluation.top5 >= SCENE_TOP5_FLOOR, evaluation.format()
    assert np.sum(evaluation.confusion) == 240


@pytest.mark.shared
@needs_scenes
def test_distil_the_backbone_labels(scenes: LabellingResult) -> None:
    """The talk's API distillation, with Lite0's own ImageNet top-5 as the "paid API": learn it on 80% of the
    photos from their embeddings, compare with the real top-5 on the other 20%."""
    ids = scenes.embeddings["image_id"].tolist()
    features = scenes.embedding_matrix()
    ranked = scenes.labels.sort_values(["image_id", "rank"]).groupby("image_id")["label"].apply(list)
    teacher = [ranked[image] for image in ids]
    train, held = stratified_split(ids, [image.split("/")[0] for image in ids], 0.2, seed=0)
    started = time.perf_counter()
    student = train_distilled(features[train], [teacher[i] for i in train], teacher=scenes.model_version,
                              feature_version=scenes.model_version)
    seconds = time.perf_counter() - started
    predicted = [[label for label, _ in row] for row in student.predict_top_k(features[held], k=5)]
    score = agreement(predicted, [teacher[i] for i in held], k=5)
    counts = pd.Series([label for i in train for label in teacher[i]]).value_counts()
    baseline = agreement([list(counts.index[:5])] * len(held), [teacher[i] for i in held], k=5)
    print(f"\ndistilled {len(student.classes)} labels ({len(student.dropped)} too rare) in {seconds:.1f} s\n"
          f"student:  {score.format()}\nbaseline: {baseline.format()} (the 5 most frequent labels)")
    assert score.n_images == 240
    assert score.overlap_at_k >= 0.6
    assert score.reference_top1_in_top_k >= 0.85
    assert score.overlap_at_k >= baseline.overlap_at_k + 0.3


@pytest.mark.shared
@needs_scenes
def test_head_labels_scene_photos(scene_model: tuple[Path, dict, float], lite0: Backbone,
                                  cache: EmbeddingCache) -> None:
    labeller = HeadLabeller.load(scene_model[0], backbone=lite0)
    photos = sorted(SCENE_PHOTOS.glob("*/*.jpg"))[::100]
    result = labeller.label_images([(p.parent.name + "/" + p.name, p) for p in photos], cache=cache)
    assert len(result.embeddings) == 12 and result.errors.empty
    assert len(result.labels) == 60 and set(result.labels["label"]) <= set(labeller.class_names)
    assert (result.labels.groupby("image_id")["probability"].sum() <= 1.0 + 1e-5).all()  # softmax: top 5 of 12
    assert set(result.labels["model_version"]) == {scene_model[1]["model_version"]}


# --- the CUDA benchmark script ---------------------------------------------------------------------------------

ALLOWED_ROOTS = {"__future__", "argparse", "os", "statistics", "sys", "time", "pathlib", "typing",
                 "keras", "numpy", "torch", "vitrine"}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _vitrine_closure(start: set[str]) -> dict[str, set[str]]:
    """Every vitrine module reached from ``start`` (packages' __init__ included) -> its imports."""
    seen: dict[str, set[str]] = {}
    todo = [name for name in start if name.startswith("vitrine")]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            module = ".".join(parts[:depth])
            path = ROOT.joinpath(*parts[:depth])
            file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
            if module in seen or not file.is_file():
                continue
            seen[module] = _imports(ast.parse(file.read_text()))
            todo += [n for n in seen[module] if n.startswith("vitrine")]
    return seen


def test_cuda_bench_imports_no_tensorflow() -> None:
    tree = ast.parse(CUDA_BENCH.read_text())
    compile(tree, str(CUDA_BENCH), "exec")
    imports = _imports(tree)
    assert {name.split(".")[0] for name in imports} <= ALLOWED_ROOTS
    top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
                 for alias in node.names} | {node.module.split(".")[0] for node in tree.body
                                             if isinstance(node, ast.ImportFrom) and node.module}
    assert not top_level & {"keras", "torch", "vitrine"}, "keras must be imported after KERAS_BACKEND is set"
    modules = _vitrine_closure(imports)
    assert {"vitrine.vision.efficientnet_lite", "vitrine.vision.vgg16", "vitrine.vision.images"} <= set(modules)
    for module, names in modules.items():
        assert not {n for n in names if n.split(".")[0] == "tensorflow"}, f"{module} imports tensorflow"


def test_cuda_bench_stops_clearly_without_a_gpu() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, str(CUDA_BENCH)], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    if importlib.util.find_spec("torch") is None:
        assert done.returncode == 1
        assert "needs PyTorch" in done.stderr
    else:  # torch present: only a machine without CUDA reaches this test's expectation
        import torch

        if torch.cuda.is_available():
            pytest.skip("a CUDA device is present: the benchmark would run")
        assert done.returncode == 1 and "no CUDA device" in done.stderr
