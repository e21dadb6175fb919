"""Fine-tuning the backbone's last blocks, the EfficientNet-Lite2 port and photo augmentation.

The fine-tuning tests train on a few real scene photos (``../shared/datasets/scene-photos``) and are skipped with a
message where they are absent; the port and augmentation tests always run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from colour_photos import colour_folders
from PIL import Image

from vitrine.progress import progress
from vitrine.vision.backbones import Backbone, load_backbone
from vitrine.vision.efficientnet_lite import block_count
from vitrine.vision.labelling import label_images
from vitrine.vision.transfer import HeadError, HeadLabeller, evaluate_head, read_head_info, train_head
from vitrine.vision.transfer.augment import Augmentation, augment
from vitrine.vision.transfer.finetune import FineTuneParams, first_trained_block, view_features

ROOT = Path(__file__).resolve().parents[1]
SCENE_PHOTOS = ROOT.parent / "shared" / "datasets" / "scene-photos"
CLASSES = ("bedroom", "forest", "sea")
PER_CLASS = 10

needs_scenes = pytest.mark.skipif(
    not SCENE_PHOTOS.is_dir(), reason=f"the scene photos are absent ({SCENE_PHOTOS}): fine-tuning not tested"
)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 scene classes x 10 real photos, as class folders."""
    root = tmp_path_factory.mktemp("scenes")
    for name in CLASSES:
        (root / name).mkdir()
        for source in sorted((SCENE_PHOTOS / name).iterdir())[:PER_CLASS]:
            (root / name / source.name).write_bytes(source.read_bytes())
    return root


@pytest.fixture(scope="module")
def fine_tuned(photos: Path, lite0: Backbone, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A head fine-tuned (last 2 blocks) on the train part of the 80/20 split of the photos."""
    if not SCENE_PHOTOS.is_dir():
        pytest.skip(f"the scene photos are absent ({SCENE_PHOTOS}): fine-tuning not tested")
    out = tmp_path_factory.mktemp("model") / "fine"
    seen: list[tuple[int, dict[str, float]]] = []
    report = train_head(
        photos, out, backbone=lite0, split="train", epochs=6, fine_tune=FineTuneParams(blocks=2, views=3),
        validation_split=0.2, on_epoch=lambda epoch, figures: seen.append((epoch, figures)),
    )
    return out, {"report": report, "epochs": seen}


# --- the Lite2 port ------------------------------------------------------------------------------------------


def test_lite2_names_the_coffee(tmp_path: Path) -> None:
    """Every Lite2 tensor lands in its Keras weight (the load checks it) and the network sees an espresso."""
    from skimage import data

    net = load_backbone("efficientnet_lite2")
    assert (net.image_size, net.embedding_size, len(net.class_names)) == (260, 1280, 1000)
    assert net.model_version.startswith("efficientnet_lite2-")
    assert block_count("efficientnet_lite2") == 21 and block_count("efficientnet_lite0") == 16
    path = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(path)
    result = label_images([("coffee", path)], net, top_k=3)
    assert result.labels["label"].iloc[0] == "espresso"


# --- augmentation --------------------------------------------------------------------------------------------


def test_augment_is_seeded_and_stays_a_photo() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.uniform(0, 255, size=(64, 64, 3)).astype(np.float32)
    first = augment(pixels, np.random.default_rng(7))
    assert first.shape == pixels.shape and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 255
    np.testing.assert_array_equal(first, augment(pixels, np.random.default_rng(7)))
    assert not np.array_equal(first, augment(pixels, np.random.default_rng(8)))
    assert not np.allclose(first, pixels)


def test_augment_without_crop_or_jitter_is_the_photo_or_its_mirror() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, size=(32, 32, 3)).astype(np.float32)
    still = Augmentation(min_area=1.0, max_aspect=1.0, brightness=0, contrast=0, saturation=0)
    seen = set()
    for seed in range(12):
        view = augment(pixels, np.random.default_rng(seed), still)
        if np.allclose(view, pixels, atol=1):
            seen.add("photo")
        elif np.allclose(view, pixels[:, ::-1], atol=1):
            seen.add("mirror")
        else:
            pytest.fail("a view without crop or jitter is neither the photo nor its mirror")
    assert seen == {"photo", "mirror"}


# --- fine-tuning ---------------------------------------------------------------------------------------------


def test_first_trained_block_is_checked(lite0: Backbone) -> None:
    assert first_trained_block(lite0, 2) == 14
    for bad in (0, 16):
        with pytest.raises(ValueError, match="fine_tune_blocks"):
            first_trained_block(lite0, bad)


@needs_scenes
def test_views_are_reproducible_and_view_one_mirrors_view_zero(photos: Path, lite0: Backbone, tmp_path: Path) -> None:
    items = [(f"p{i}", path) for i, path in enumerate(sorted(photos.rglob("*.jpg"))[:3])]
    items.append(("broken", tmp_path / "missing.jpg"))
    first = view_features(items, lite0, 15, views=3, seed=4)
    again = view_features(items, lite0, 15, views=3, seed=4)
    assert first.maps.shape == (3, 3, 7, 7, 192) and first.maps.dtype == np.float16
    assert list(first.positions) == [0, 1, 2]
    assert first.errors["reason"].tolist() == ["missing_file"]
    np.testing.assert_array_equal(first.maps, again.maps)
    # the trunk sees view 1 as the mirror of view 0: its feature map, mirrored, is close to view 0's
    mirrored = first.maps[:, 1, :, ::-1].astype(np.float32)
    original = first.maps[:, 0].astype(np.float32)
    other = view_features(items[:3], lite0, 15, views=3, seed=5).maps[:, 2].astype(np.float32)
    assert np.abs(mirrored - original).mean() < np.abs(other - original).mean()


@needs_scenes
def test_fine_tuning_lowers_the_loss_and_changes_only_the_last_blocks(
    fine_tuned: tuple[Path, dict], lite0: Backbone
) -> None:
    import keras

    folder, seen = fine_tuned
    report = seen["report"]
    assert report.history["loss"][-1] < report.history["loss"][0]
    assert [epoch for epoch, _ in seen["epochs"]] == list(range(1, report.epochs_run + 1))
    assert {"loss", "val_loss", "val_score"} <= set(seen["epochs"][-1][1])
    info = read_head_info(folder)
    assert info.fine_tune_blocks == 2
    assert json.loads((folder / "train_report.json").read_text())["params"]["fine_tune"]["blocks"] == 2
    head = keras.saving.load_model(folder / info.head_file, compile=False)
    trained_blocks = {f"block{i}" for i in range(14, 16)}
    changed, kept = set(), set()
    for layer in head.layers:
        if not layer.weights or layer.name == "probabilities":
            continue
        assert layer.name.split("_")[0] in trained_blocks | {"head"}, f"{layer.name} is not in the last blocks"
        before = lite0.model.get_layer(layer.name).get_weights()
        same = all(np.array_equal(a, b) for a, b in zip(before, layer.get_weights(), strict=True))
        (kept if same else changed).add(layer.name)
    assert {name for name in kept if not name.endswith("_bn")} == set()
    assert {name for name in changed if name.endswith("_bn")} == set()
    assert {"block14_expand_conv", "block15_project_conv", "head_conv"} <= changed
    # the frozen trunk is the pretrained network: the labeller's embeddings are the backbone's own
    items = [(p.name, p) for p in sorted(Path(info.dataset).rglob("*.jpg"))[:4]]
    labeller = HeadLabeller.load(folder, backbone=lite0)
    ours = labeller.label_images(items, top_k=2)
    theirs = label_images(items, lite0, top_k=1)
    np.testing.assert_allclose(np.stack(ours.embeddings["embedding"]), np.stack(theirs.embeddings["embedding"]),
                               rtol=1e-5, atol=1e-5)
    assert set(ours.labels["label"]) <= set(CLASSES)
    assert set(ours.labels["model_version"]) == {info.model_version}


@needs_scenes
def test_fine_tuned_head_is_evaluated_on_the_photos_it_did_not_see(fine_tuned: tuple[Path, dict],
                                                                   photos: Path, lite0: Backbone) -> None:
    folder, _ = fine_tuned
    report = evaluate_head(photos, folder, backbone=lite0)
    assert report.n_images == len(CLASSES) * PER_CLASS // 5
    assert report.top1 is not None and report.top1 >= 0.8  # three distinct scenes: well above chance (1/3)
    labeller = HeadLabeller.load(folder, backbone=lite0)
    with pytest.raises(HeadError, match="fine-tuned"):
        labeller.predict_embeddings(np.zeros((1, 1280), dtype=np.float32))
    # the labeller's top label is the class of highest probability in evaluate's matrix
    items = [(p.name, p) for p in sorted((photos / "sea").glob("*.jpg"))[:2]]
    features, probabilities = labeller.predict(items)
    labels = labeller.label_images(items, top_k=1)
    assert list(labels.labels["label"]) == [labeller.class_names[i] for i in probabilities.argmax(axis=1)]
    assert features.positions.tolist() == [0, 1]


def test_progress_note_is_in_the_log_lines() -> None:
    lines: list[str] = []
    with progress("train", total=3, unit="epochs", mode="log", every_percent=0, every_seconds=0,
                  emit=lines.append) as bar:
        bar.note("loss 0.500")
        bar.update(1)
    assert any(line.endswith("loss 0.500") and "1/3 epochs" in line for line in lines)


def test_bench_transfer_cv_prints_a_row_per_candidate(tmp_path: Path) -> None:
    """The benchmark runs end to end on generated photos: a frozen and a fine-tuned candidate, 2 folds each."""
    import subprocess
    import sys

    photos = colour_folders(tmp_path / "photos", 6, size=40, seed=3)
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_transfer_cv.py"), "--photos", str(photos),
               "--candidates", "lite0,lite0-ft1-v2", "--folds", "2", "--cache", str(tmp_path / "cache"), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    assert [(r["candidate"], r["blocks"], r["views"], len(r["folds"])) for r in results] == [
        ("lite0", 0, 1, 2), ("lite0-ft1-v2", 1, 2, 2)]
    assert all(0.0 <= fold["top1"] <= fold["top5"] <= 1.0 for r in results for fold in r["folds"])
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2  # the frozen passes are kept for a rerun


@needs_scenes
def test_the_warehouse_labels_with_a_fine_tuned_head_beside_the_pretrained_classifier(
    fine_tuned: tuple[Path, dict], photos: Path
) -> None:
    """int_image_inference's step (label_new_content) with a fine-tuned head as image_head: both versions labelled,
    the head's rows its classes, the same pooled embedding under both, and a rerun labels nothing."""
    import pandas as pd

    from vitrine.vision.warehouse import LabellingConfig, image_files, label_new_content

    folder, _ = fine_tuned
    info = read_head_info(folder)
    paths = sorted(photos.rglob("*.jpg"))[::7]
    images = pd.DataFrame({"image_id": range(len(paths)), "image_path": [str(p) for p in paths]})
    config = LabellingConfig(head=str(folder))
    files = image_files(images, config).to_pandas()
    table = label_new_content(files, None, config).to_pandas()
    assert set(table["status"]) == {"labelled"}
    by_version = {version: rows.set_index("content_hash") for version, rows in table.groupby("model_version")}
    assert set(by_version) == {info.backbone_version, info.model_version}
    head_rows, pretrained = by_version[info.model_version], by_version[info.backbone_version]
    assert len(head_rows) == len(pretrained) == files["content_hash"].nunique()
    assert set(head_rows["label_1"]) <= set(CLASSES) and not set(pretrained["label_1"]) & set(CLASSES)
    for content in head_rows.index:
        np.testing.assert_allclose(head_rows.loc[content, "embedding"], pretrained.loc[content, "embedding"],
                                   rtol=1e-5, atol=1e-5)
    done = table[["content_hash", "model_version"]]
    assert label_new_content(files, done, config).num_rows == 0
