"""Multilabel travel tags: class folders plus a ``labels.csv`` of extra tags, multilabel heads on class folders,
and per-tag precision / recall.

Reading the layouts runs on tiny generated images. Training and evaluating a sigmoid head runs on 30 real scene
photos (``../shared/datasets/scene-photos``, three classes of ten) and is skipped with a message where they are
absent; the per-tag scores are checked against counts made here from the head's own probabilities.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitrine.vision.backbones import Backbone
from vitrine.vision.transfer import (
    DatasetError,
    EmbeddingCache,
    HeadLabeller,
    SplitSpec,
    evaluate_head,
    read_dataset,
    read_head_info,
    split_dataset,
    train_head,
)

ROOT = Path(__file__).resolve().parents[1]
SCENE_PHOTOS = ROOT.parent / "shared" / "datasets" / "scene-photos"


def _png(path: Path, value: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (value, value, value)).save(path)
    return path


def _folders(root: Path, counts: dict[str, int]) -> Path:
    for name, n in counts.items():
        for i in range(n):
            _png(root / name / f"{i}.png", i)
    return root


def _write_csv(root: Path, lines: list[str], header: str = "image,labels") -> Path:
    path = root / "labels.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


# --- reading the combined layout (no network) ------------------------------------------------------------------


def test_class_folders_with_labels_csv_are_multilabel(tmp_path: Path) -> None:
    root = _folders(tmp_path / "photos", {"a": 3, "b": 3})
    _png(root / "loose.png")  # in no class folder
    (root / "b" / "notes.txt").write_text("not an image")
    _write_csv(root, [
        "a/0.png,pool|resort",
        "./b/1.png, coast | pool ",
        "loose.png,coast",
        f"{(root / 'b' / '2.png').resolve()},a",  # absolute, inside the dataset: b/2.png, also tagged a
        "a/1.png,",  # a row without extra labels
        "a/2.png,a",  # its own folder's class again: counted once
    ])
    data = read_dataset(root)
    assert data.mode == "multi"
    assert data.classes == ("a", "b", "coast", "pool", "resort")
    assert data.images == ("a/0.png", "a/1.png", "a/2.png", "b/0.png", "b/1.png", "b/2.png", "loose.png")
    assert dict(zip(data.images, data.labels, strict=True)) == {
        "a/0.png": ("a", "pool", "resort"),
        "a/1.png": ("a",),
        "a/2.png": ("a",),
        "b/0.png": ("b",),
        "b/1.png": ("b", "coast", "pool"),
        "b/2.png": ("b", "a"),
        "loose.png": ("coast",),
    }
    assert data.class_counts() == {"a": 4, "b": 3, "coast": 2, "pool": 2, "resort": 1}
    targets = data.targets()
    assert targets.dtype == np.float32 and targets.shape == (7, 5)
    assert targets[4].tolist() == [0, 1, 1, 1, 0] and targets[6].tolist() == [0, 0, 1, 0, 0]
    assert data.targets(("pool", "b")).tolist()[4] == [1, 1]  # another class list: its order, others left out
    assert data.path("loose.png").is_file()
    # the rarest label is the stratum: a/0.png goes with resort, b/1.png with coast (coast and pool tie at 2: the
    # name decides), b/2.png with b (3 images, a has 4)
    assert data.strata() == ["resort", "a", "a", "b", "coast", "b", "coast"]


def test_the_csv_file_alone_and_a_single_image_folder_keep_the_csv_layout(tmp_path: Path) -> None:
    root = _folders(tmp_path / "photos", {"a": 2, "b": 2})
    csv_path = _write_csv(root, ["a/0.png,pool", "./b/1.png,coast"])
    alone = read_dataset(csv_path)
    assert alone.mode == "multi" and alone.classes == ("coast", "pool")
    assert alone.images == ("a/0.png", "./b/1.png")
    one_folder = _folders(tmp_path / "one", {"img": 2})
    _write_csv(one_folder, ["img/0.png,pool", "img/1.png,pool|coast"])
    data = read_dataset(one_folder)
    assert data.classes == ("coast", "pool")  # "img" is where the images lie, not a class
    assert data.labels == (("pool",), ("pool", "coast"))


def test_header_only_csv_and_mode_multi_make_class_folders_multilabel(tmp_path: Path) -> None:
    plain = _folders(tmp_path / "plain", {"sea": 5, "forest": 7, "snow": 4})
    single = read_dataset(plain)
    multi = read_dataset(plain, mode="multi")
    assert single.mode == "single" and multi.mode == "multi"
    assert multi.images == single.images and multi.classes == single.classes == ("forest", "sea", "snow")
    assert multi.labels == single.labels
    one_hot = multi.targets()
    assert one_hot.shape == (16, 3) and one_hot.sum(axis=1).tolist() == [1.0] * 16
    assert one_hot.argmax(axis=1).tolist() == single.targets().tolist()
    # the same strata, so the same split, as in single-label mode
    assert multi.strata() == single.strata()
    for part in ("train", "test"):
        spec = SplitSpec(part, seed=7, test_fraction=0.25)
        assert split_dataset(multi, spec).images == split_dataset(single, spec).images
    # a labels.csv with the header alone does the same through the layout
    with_csv = _folders(tmp_path / "with_csv", {"sea": 5, "forest": 7, "snow": 4})
    _write_csv(with_csv, [])
    from_layout = read_dataset(with_csv)
    assert from_layout.mode == "multi"
    assert (from_layout.images, from_layout.labels, from_layout.classes) == (multi.images, multi.labels,
                                                                             multi.classes)
    # and back: single mode accepts it, every image having one label
    back = read_dataset(with_csv, mode="single")
    assert back.mode == "single" and back.targets().tolist() == single.targets().tolist()


def test_single_mode_refuses_images_with_several_labels(tmp_path: Path) -> None:
    root = _folders(tmp_path / "photos", {"a": 2, "b": 2})
    _write_csv(root, ["b/1.png,pool"])
    with pytest.raises(DatasetError, match=r"image b/1\.png has 2 labels \(b, pool\)"):
        read_dataset(root, mode="single")
    with pytest.raises(DatasetError, match="mode must be one of single, multi"):
        read_dataset(root, mode="multilabel")  # type: ignore[arg-type]


def test_combined_layout_errors_name_the_file_and_line(tmp_path: Path) -> None:
    root = _folders(tmp_path / "photos", {"a": 2, "b": 2})
    csv_path = _write_csv(root, ["a/0.png,pool", "a/9.png,pool", "b/0.png,coast"])
    with pytest.raises(DatasetError) as missing:
        read_dataset(root)
    message = str(missing.value)
    assert f"{csv_path}:3:" in message and "'a/9.png' not found" in message and str(root / "a" / "9.png") in message
    # a row outside every folder must exist too
    _write_csv(root, ["elsewhere/x.png,coast"])
    with pytest.raises(DatasetError, match=r"labels\.csv:2: image 'elsewhere/x\.png' not found"):
        read_dataset(root)
    _write_csv(root, ["a/0.png,pool"], header="file,tags")
    with pytest.raises(DatasetError, match=r"labels\.csv: the header must name the columns image,labels "
                                           r"\(got file,tags\)"):
        read_dataset(root)
    _write_csv(root, ["a/0.png,pool", "b/0.png,coast", "./a/0.png,resort"])
    with pytest.raises(DatasetError, match=r"labels\.csv:4: image '\./a/0\.png' is the image of line 2"):
        read_dataset(root)
    _write_csv(root, ["a/0.png,pool", "a/0.png,resort"])
    with pytest.raises(DatasetError, match="listed twice"):
        read_dataset(root)
    _write_csv(root, [",pool"])
    with pytest.raises(DatasetError, match="empty image path"):
        read_dataset(root)


def test_class_folders_under_a_hidden_folder_are_read_and_hidden_files_inside_skipped(tmp_path: Path) -> None:
    """A dataset kept under ~/.cache is read; hidden files and folders inside a class folder are not images."""
    root = _folders(tmp_path / ".cache" / "photos", {"sea": 2, "forest": 1})
    _png(root / "sea" / ".thumbs" / "0.png")
    _png(root / "sea" / ".hidden.png")
    dataset = read_dataset(root)
    assert dataset.classes == ("forest", "sea")
    assert sorted(dataset.images) == ["forest/0.png", "sea/0.png", "sea/1.png"]


def test_split_of_the_combined_layout_is_stratified_by_the_rarest_label(tmp_path: Path) -> None:
    root = _folders(tmp_path / "photos", {"a": 10, "b": 10})
    _write_csv(root, [f"a/{i}.png,rare" for i in range(4)] + [f"b/{i}.png,common" for i in range(10)])
    data = read_dataset(root)
    assert data.class_counts() == {"a": 10, "b": 10, "common": 10, "rare": 4}
    strata = dict(zip(data.images, data.strata(), strict=True))
    assert [strata[f"a/{i}.png"] for i in range(5)] == ["rare"] * 4 + ["a"]
    assert strata["b/0.png"] == "b"  # b and common tie at 10: the name decides
    spec = SplitSpec("test", seed=0, test_fraction=0.25)
    test = split_dataset(data, spec)
    train = split_dataset(data, spec.complement())
    test_strata = [strata[image] for image in test.images]
    # round(4 / 4) = 1 of the rare images, round(6 / 4) = 2 of the other a images, round(10 / 4) = 3 of b
    assert sorted(test_strata) == ["a", "a", "b", "b", "b", "rare"]
    assert set(test.images).isdisjoint(train.images) and len(train) + len(test) == 20
    assert test.labels == tuple(dict(zip(data.images, data.labels, strict=True))[i] for i in test.images)


# --- a multilabel head on real photos --------------------------------------------------------------------------

SCENE_CLASSES = ("bedroom", "forest", "sea")
PER_CLASS = 10



@pytest.fixture(scope="module")
def cache() -> EmbeddingCache:
    """Shared by the module: every photo is embedded once (the copies have the same content)."""
    return EmbeddingCache()


@pytest.fixture(scope="module")
def travel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Three scene-photo folders of ten, copied three times: plain class folders, with a ``labels.csv`` holding
    the header alone, and with a ``labels.csv`` tagging the sea and forest photos and one loose mountain photo
    ``outdoor``. Returns the three roots and the combined layout's labels as built here."""
    if not SCENE_PHOTOS.is_dir():
        pytest.skip(f"the scene photos are absent ({SCENE_PHOTOS}): the multilabel head is not trained")
    base = tmp_path_factory.mktemp("travel")
    roots = {name: base / name for name in ("plain", "header_only", "combined")}
    truth: dict[str, set[str]] = {}
    for name in SCENE_CLASSES:
        for source in sorted((SCENE_PHOTOS / name).glob("*.jpg"))[:PER_CLASS]:
            for root in roots.values():
                (root / name).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, root / name / source.name)
            truth[f"{name}/{source.name}"] = {name, "outdoor"} if name != "bedroom" else {name}
    mountain = sorted((SCENE_PHOTOS / "mountain").glob("*.jpg"))[0]
    shutil.copyfile(mountain, roots["combined"] / "mountain.jpg")
    truth["mountain.jpg"] = {"outdoor"}
    _write_csv(roots["header_only"], [])
    _write_csv(roots["combined"], [f"{image},outdoor" for image in sorted(truth) if "outdoor" in truth[image]])
    return {**roots, "truth": truth}


@pytest.fixture(scope="module")
def combined_model(travel: dict, lite0: Backbone, cache: EmbeddingCache,
                   tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("travel-models") / "combined"
    report = train_head(travel["combined"], out, backbone=lite0, split="train", cache=cache, epochs=60,
                        batch_size=8)
    return out, report.to_dict()


def _hand_counts(probabilities: np.ndarray, classes: tuple[str, ...], truth: list[set[str]],
                 threshold: float = 0.5) -> dict[str, dict[str, float]]:
    counts: dict[str, dict[str, float]] = {}
    for j, tag in enumerate(classes):
        tp = fp = fn = 0
        for row, labels in zip(probabilities, truth, strict=True):
            predicted, true = bool(row[j] >= threshold), tag in labels
            tp += predicted and true
            fp += predicted and not true
            fn += true and not predicted
        counts[tag] = {"tp": tp, "fp": fp, "fn": fn, "support": tp + fn, "predicted": tp + fp,
                       "precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0}
    return counts


@pytest.mark.shared
def test_multilabel_head_on_class_folders_plus_tags(combined_model: tuple[Path, dict], travel: dict,
                                                    lite0: Backbone, cache: EmbeddingCache) -> None:
    out, report = combined_model
    classes = ("bedroom", "forest", "outdoor", "sea")  # folders and tags, sorted
    assert report["mode"] == "multi" and tuple(report["classes"]) == classes
    assert report["validation_metric"] == "f1_micro"
    # strata: bedroom (10), forest (10), sea (10) and the mountain alone in outdoor (21): 2 + 2 + 2 held out
    assert report["n_images"] == 25 and report["n_errors"] == 0
    assert report["class_counts"] == {"bedroom": 8, "forest": 8, "sea": 8, "outdoor": 17}
    info = read_head_info(out)
    assert info.mode == "multi" and info.classes == classes

    evaluation = evaluate_head(travel["combined"], out, backbone=lite0, cache=cache)
    assert evaluation.mode == "multi" and evaluation.split.startswith("test") and evaluation.n_images == 6
    assert evaluation.unknown_labels == []
    assert {tag: row["support"] for tag, row in evaluation.per_class.items()} == {
        "bedroom": 2, "forest": 2, "sea": 2, "outdoor": 4}
    assert evaluation.f1_micro is not None and evaluation.f1_micro >= 0.8, evaluation.format()
    assert evaluation.per_class["outdoor"]["recall"] >= 0.75, evaluation.format()

    # every photo: the scores are those counted here from the head's probabilities and the labels built above, at
    # 0.5 and at thresholds that make false positives (30 % quantile) and false negatives (70 % quantile)
    truth = travel["truth"]
    images = sorted(truth)
    labeller = HeadLabeller.load(out, backbone=lite0)
    features = labeller.embed([(image, travel["combined"] / image) for image in images], cache=cache)
    assert list(features.image_ids) == images
    probabilities = labeller.predict_embeddings(features.matrix)
    errors = {"fp": 0, "fn": 0}
    for threshold in (0.5, float(np.quantile(probabilities, 0.3)), float(np.quantile(probabilities, 0.7))):
        scored = evaluate_head(travel["combined"], out, split="all", backbone=lite0, cache=cache, threshold=threshold)
        assert scored.n_images == 31 and scored.threshold == threshold
        counts = _hand_counts(probabilities, classes, [truth[i] for i in images], threshold)
        for tag in classes:
            row = scored.per_class[tag]
            for key in ("tp", "fp", "fn", "support", "predicted"):
                assert row[key] == counts[tag][key], (threshold, tag, key, scored.format())
            assert row["precision"] == pytest.approx(counts[tag]["precision"])
            assert row["recall"] == pytest.approx(counts[tag]["recall"])
            errors["fp"] += int(counts[tag]["fp"])
            errors["fn"] += int(counts[tag]["fn"])
        assert counts["outdoor"]["support"] == 21
        tp = sum(c["tp"] for c in counts.values())
        assert scored.precision_micro == pytest.approx(tp / sum(c["predicted"] for c in counts.values()))
        assert scored.recall_micro == pytest.approx(tp / sum(c["support"] for c in counts.values()))
        assert scored.precision_macro == pytest.approx(np.mean([c["precision"] for c in counts.values()]))
    assert errors["fp"] > 0 and errors["fn"] > 0  # the counts were checked with errors of both kinds

    everything = evaluate_head(travel["combined"], out, split="all", backbone=lite0, cache=cache)
    print(f"\n{evaluation.format()}\n{everything.format()}")
    counts = _hand_counts(probabilities, classes, [truth[i] for i in images])
    # the per-tag table, in text and JSON
    text = everything.format()
    assert "label    support  predicted  correct  precision  recall     f1" in text
    row = everything.per_class["outdoor"]
    precision = f"{row['precision']:>9.3f}" if row["predicted"] else f"{'-':>9}"
    assert (f"outdoor       21  {row['predicted']:>9}  {row['tp']:>7}  {precision}  {row['recall']:>6.3f}"
            in text), text
    data = json.loads(json.dumps(everything.to_dict()))
    assert data["per_class"]["outdoor"]["support"] == 21 and data["per_class"]["sea"]["tp"] == counts["sea"]["tp"]
    assert set(data["per_class"]) == set(classes) and data["unknown_labels"] == []


@pytest.mark.shared
def test_multilabel_head_trained_on_plain_class_folders(travel: dict, lite0: Backbone, cache: EmbeddingCache,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "header-only"
    report = train_head(travel["header_only"], out, backbone=lite0, split="train", cache=cache, epochs=60,
                        batch_size=8)
    assert report.mode == "multi" and report.classes == SCENE_CLASSES
    assert report.class_counts == {"bedroom": 8, "forest": 8, "sea": 8}
    # scored on the same folders without labels.csv: read as multilabel for this head, the same test part
    evaluation = evaluate_head(travel["plain"], out, backbone=lite0, cache=cache)
    assert evaluation.mode == "multi" and evaluation.n_images == 6
    assert {tag: row["support"] for tag, row in evaluation.per_class.items()} == dict.fromkeys(SCENE_CLASSES, 2)
    assert evaluation.f1_micro is not None and evaluation.f1_micro >= 0.8, evaluation.format()
    # on the tagged copy: outdoor is unknown to this head, listed and left out
    tagged = evaluate_head(travel["combined"], out, split="all", backbone=lite0, cache=cache)
    assert tagged.n_images == 31 and tagged.unknown_labels == ["outdoor"]
    assert "outdoor" not in tagged.per_class and sum(row["support"] for row in tagged.per_class.values()) == 30
    assert "labels unknown to the model (ignored): outdoor" in tagged.format()
    # a single-label head cannot be scored on images with two labels
    single = train_head(travel["plain"], tmp_path / "single", backbone=lite0, split="train", cache=cache,
                        epochs=5, batch_size=8)
    assert single.mode == "single"
    with pytest.raises(DatasetError, match=r"the model is single label: .*has 2 labels"):
        evaluate_head(travel["combined"], tmp_path / "single", backbone=lite0, cache=cache)
