"""VGG16 from a user's weights file with the Places365 class list.

VGG16's classifier fixes the input at 224x224, so its first dense layer alone holds 102 M weights: no smaller
model has the real layout. The module writes one full-size random weights file (~528 MB, fixed by the layout) in the
legacy Keras 2 HDF5 layout of the community Places365 file (including its weightless Dropout layers), with a
zero final kernel and a chosen bias so that the five most probable classes are known in advance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from vitrine.vision.backbones import Backbone, load_backbone
from vitrine.vision.classes import ClassListError, read_class_list
from vitrine.vision.labelling import label_images
from vitrine.vision.vgg16 import VGG16WeightsError

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
PLACES_FILE = SHARED_DATASETS / "places365" / "categories_places365.txt"
FAVOURITES = ("swimming_pool/outdoor", "beach", "ski_resort", "hotel/outdoor", "airfield")


@pytest.fixture(scope="module")
def places_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared Places365 list, or a stand-in of the same format where ../shared is absent."""
    if PLACES_FILE.is_file():
        return PLACES_FILE
    path = tmp_path_factory.mktemp("places") / "categories_places365.txt"
    names = ["airfield", "beach", "hotel/outdoor", "ski_resort", "swimming_pool/outdoor"]
    names += [f"scene_{i}" for i in range(365 - len(names))]
    path.write_text("".join(f"/{n[0]}/{n} {i}\n" for i, n in enumerate(names)))
    return path


def _write_legacy_h5(path: Path, layers: list[tuple[str, list[np.ndarray]]]) -> None:
    """Keras 2 ``save_weights`` HDF5 layout: root attr layer_names, one group per layer with weight_names."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [name.encode() for name, _ in layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.5"
        for name, weights in layers:
            group = f.create_group(name)
            weight_names = [f"{name}/{part}:0".encode() for part in ("kernel", "bias")[: len(weights)]]
            group.attrs["weight_names"] = weight_names
            for weight_name, value in zip(weight_names, weights, strict=True):
                group.create_dataset(weight_name.decode(), data=value)


@pytest.fixture(scope="module")
def places_weights(
    tmp_path_factory: pytest.TempPathFactory, places_list: Path
) -> Iterator[tuple[Path, dict]]:
    import keras

    names = read_class_list(places_list)
    reference = keras.applications.VGG16(weights=None, classes=len(names))
    layers: list[tuple[str, list[np.ndarray]]] = []
    for layer in reference.layers:
        weights = [np.asarray(w) for w in layer.get_weights()]
        if layer.name == "predictions":
            weights[0] = np.zeros_like(weights[0])
            weights[1] = np.zeros_like(weights[1])
            for rank, name in enumerate(FAVOURITES):
                weights[1][names.index(name)] = 5.0 - rank
        layers.append((layer.name, weights))
        if layer.name in ("fc1", "fc2"):  # the Places365 file has Dropout layers there
            layers.append((f"drop_{layer.name}", []))
    path = tmp_path_factory.mktemp("vgg16") / "vgg16-places365_weights_tf_dim_ordering_tf_kernels.h5"
    _write_legacy_h5(path, layers)
    written = dict(layers)
    del reference
    yield path, written
    path.unlink()  # 528 MB: do not leave it in pytest's kept temporary folders


@pytest.fixture(scope="module")
def places_backbone(places_weights: tuple[Path, dict], places_list: Path) -> Backbone:
    return load_backbone("vgg16", weights=places_weights[0], class_list=places_list)


def test_read_places_class_list(places_list: Path) -> None:
    names = read_class_list(places_list)
    assert len(names) == 365 and len(set(names)) == 365
    assert names[0] == "airfield"
    assert "swimming_pool/outdoor" in names and "beach" in names
    if places_list == PLACES_FILE:
        assert names[:5] == ("airfield", "airplane_cabin", "airport_terminal", "alcove", "alley")
        assert names[8] == "apartment_building/outdoor"


def test_class_list_errors(tmp_path: Path) -> None:
    gap = tmp_path / "gap.txt"
    gap.write_text("/a/airfield 0\n/b/beach 2\n")
    with pytest.raises(ClassListError, match="indices"):
        read_class_list(gap)
    twice = tmp_path / "twice.txt"
    twice.write_text("beach\nbeach\n")
    with pytest.raises(ClassListError, match="duplicated"):
        read_class_list(twice)
    shuffled = tmp_path / "shuffled.txt"
    shuffled.write_text("/b/beach 1\n/a/airfield 0\n")
    assert read_class_list(shuffled) == ("airfield", "beach")


def test_vgg16_places_from_user_file(
    places_backbone: Backbone, places_weights: tuple[Path, dict], tmp_path: Path
) -> None:
    path, written = places_weights
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert places_backbone.model_version == f"vgg16-{digest[:12]}"
    assert len(places_backbone.class_names) == 365 and places_backbone.embedding_size == 512
    # The file's weights, not a fresh initialisation, are in the model.
    for name in ("block1_conv1", "block5_conv3", "fc1"):
        got = places_backbone.model.get_layer(name).get_weights()
        for value, expected in zip(got, written[name], strict=True):
            np.testing.assert_array_equal(value, expected)

    from PIL import Image

    photo = tmp_path / "pool.jpg"
    Image.new("RGB", (320, 240), (40, 140, 220)).save(photo)
    result = label_images(
        [("pool", photo), ("missing", tmp_path / "none.jpg")], places_backbone, batch_size=4
    )
    labels = result.labels.sort_values("rank")
    assert tuple(labels["label"]) == FAVOURITES
    logits = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    expected = np.exp(logits) / (np.exp(logits).sum() + (365 - 5) * np.exp(0.0))
    np.testing.assert_allclose(labels["probability"], expected, rtol=1e-4)
    assert set(labels["model_version"]) == {places_backbone.model_version}
    assert result.embedding_matrix().shape == (1, 512)
    assert list(result.errors["reason"]) == ["missing_file"]


def test_vgg16_file_without_matching_class_list(places_weights: tuple[Path, dict], tmp_path: Path) -> None:
    with pytest.raises(VGG16WeightsError, match="1000 classes"):
        load_backbone("vgg16", weights=places_weights[0])  # Places365 weights, ImageNet's 1000 names
    with pytest.raises(VGG16WeightsError, match="no VGG16 weights file"):
        load_backbone("vgg16", weights=tmp_path / "absent.h5")
    wrong = tmp_path / "weights.bin"
    wrong.write_bytes(b"x")
    with pytest.raises(VGG16WeightsError, match="Keras"):
        load_backbone("vgg16", weights=wrong)


def test_transfer_head_on_vgg16_places_with_class_list(
    places_weights: tuple[Path, dict], places_list: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``vitrine transfer train/evaluate --weights --class-list`` on VGG16-Places365, and the same files in the
    labelling config: the head labels under its version; a config on another backbone is refused."""
    import json

    import pandas as pd
    from PIL import Image

    from vitrine.cli import main
    from vitrine.vision.transfer import HeadError, read_head_info
    from vitrine.vision.warehouse import LabellingConfig, label_new_content

    photos = tmp_path / "photos"
    for name, colour in (("pool", (40, 140, 220)), ("snow", (235, 235, 240))):
        (photos / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (64, 48), tuple(c - 20 * i for c in colour)).save(photos / name / f"{i}.jpg")
    weights = places_weights[0]
    model = tmp_path / "head"
    args = ["transfer", "train", "--photos", str(photos), "--out", str(model), "--backbone", "vgg16",
            "--weights", str(weights)]
    assert main(args) == 2  # Places365 weights need their class list
    assert "1000 classes" in capsys.readouterr().err
    assert main([*args, "--class-list", str(places_list), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    info = read_head_info(model)
    assert info.backbone == "vgg16" and info.classes == ("pool", "snow")
    assert info.backbone_weights == str(weights.resolve()) and info.backbone_class_list == str(places_list.resolve())
    assert info.model_version == trained["model_version"] and info.model_version.startswith("vgg16-")
    assert main(["transfer", "evaluate", "--photos", str(photos), "--model", str(model), "--weights", str(weights),
                 "--class-list", str(places_list), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_images"] == 6

    config = LabellingConfig(backbone="vgg16", weights=str(weights), class_list=str(places_list), head=str(model))
    assert config.model_version() == info.model_version
    with pytest.raises(HeadError, match="trained on backbone vgg16-"):
        LabellingConfig(head=str(model)).model_version()  # the default backbone, Lite0
    files = pd.DataFrame({"image_id": [1, 2], "image_path": [str(photos / "pool" / "0.jpg"), str(tmp_path / "x.jpg")],
                          "content_hash": ["a", "b"], "model_version": [info.model_version] * 2})
    table = label_new_content(files, None, config).to_pandas().set_index("content_hash")
    assert table.loc["a", "status"] == "labelled" and table.loc["b", "status"] == "failed"
    assert {table.loc["a", "label_1"], table.loc["a", "label_2"]} == {"pool", "snow"}
    assert pd.isna(table.loc["a", "label_3"])
    assert len(table.loc["a", "embedding"]) == 512  # VGG16's pooled features, not the head's
    assert set(table["model_version"]) == {info.model_version}
