"""Image labelling inside the dbt build: bad files never stop the run, labelling is incremental by content, and a
trained head (dbt var image_head) labels beside the pretrained classifier, its scene labels becoming the tags of the
themes and tag_attractiveness (real scene photos; skipped without them)."""

from __future__ import annotations

import io
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vitrine.dbt_runner import run_dbt
from vitrine.ingest import ingest_folder
from vitrine.simulate import simulate_world

IMAGE_STEPS = ["build", "--select", "+tag:images", "--exclude", "test_type:unit"]


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _jpeg(mode: str, color: object) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (96, 80), color).save(buffer, "JPEG")
    return buffer.getvalue()


def _png(mode: str, size: tuple[int, int], color: object) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("images")
    world = root / "world"
    simulate_world(world, users=60, days=8, sales_per_day=4, seed=2, start=date(2026, 7, 1))
    with duckdb.connect() as con:
        uris = con.execute(
            f"select image_id, uri from read_csv('{world / 'sale_images.csv'}') order by image_id"
        ).fetchall()
    images = world / "images"
    truncated = (images / uris[1][1]).read_bytes()
    cases = {
        "missing": uris[0],
        "truncated": uris[1],
        "not_an_image": uris[2],
        "bomb": uris[3],
        "grayscale": uris[4],
        "cmyk": uris[5],
        "alpha": uris[6],
        "palette": uris[7],
    }
    (images / cases["missing"][1]).unlink()
    (images / cases["truncated"][1]).write_bytes(truncated[: len(truncated) // 3])
    (images / cases["not_an_image"][1]).write_text("sale_id,title\n1,not a photo\n")
    (images / cases["bomb"][1]).write_bytes(_png("L", (9000, 5000), 0))  # 45 M pixels, a few KB on disk
    (images / cases["grayscale"][1]).write_bytes(_jpeg("L", 128))
    (images / cases["cmyk"][1]).write_bytes(_jpeg("CMYK", (0, 80, 160, 0)))
    (images / cases["alpha"][1]).write_bytes(_png("RGBA", (64, 64), (0, 120, 255, 90)))
    (images / cases["palette"][1]).write_bytes(_png("P", (64, 64), 3))
    warehouse = root / "vitrine.duckdb"
    ingest_folder(world, warehouse=warehouse)
    run_dbt(IMAGE_STEPS, warehouse=warehouse)
    return warehouse, world, {name: image_id for name, (image_id, _) in cases.items()}


def test_bad_images_are_errors_with_reasons_and_the_rest_is_labelled(
    labelled: tuple[Path, Path, dict[str, int]],
) -> None:
    warehouse, _, ids = labelled
    reasons = dict(_query(warehouse, "select image_id, reason from main.image_label_errors"))
    assert reasons == {
        ids["missing"]: "missing_file",
        ids["truncated"]: "truncated_file",
        ids["not_an_image"]: "not_an_image",
        ids["bomb"]: "decompression_bomb",
    }
    counts = dict(_query(warehouse, "select image_id, count(*) from main.image_labels where is_current group by 1"))
    for name in ("grayscale", "cmyk", "alpha", "palette"):
        assert counts.get(ids[name]) == 5, name
    (images,) = _query(warehouse, "select count(*) from main.stg_sale_images")[0]
    assert len(counts) == images - len(reasons)  # every other image has its top 5
    probabilities = _query(
        warehouse, "select image_id, sum(probability), max(probability) from main.image_labels group by 1"
    )
    assert all(0 < total <= 1.0001 and top > 0 for _, total, top in probabilities)
    (dims,) = _query(warehouse, "select distinct len(embedding) from main.image_embeddings")[0]
    assert dims == 1280


def test_labelling_is_incremental_by_content(labelled: tuple[Path, Path, dict[str, int]], tmp_path: Path) -> None:
    warehouse, _, ids = labelled
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, copy)
    before = _query(copy, "select content_hash, model_version, labelled_at, label_1 from main.int_image_inference")

    run_dbt(IMAGE_STEPS, warehouse=copy)  # same files, same model version: nothing is labelled again
    again = _query(copy, "select content_hash, model_version, labelled_at, label_1 from main.int_image_inference")
    assert sorted(again) == sorted(before)

    # A changed file gets a new content hash: that one image, and only it, is labelled again.
    (path,) = _query(copy, f"select image_path from main.int_image_files where image_id = {ids['grayscale']}")[0]
    original = Path(path).read_bytes()
    try:
        Path(path).write_bytes(_jpeg("RGB", (200, 30, 30)))
        run_dbt(IMAGE_STEPS, warehouse=copy)
    finally:
        Path(path).write_bytes(original)
    after = _query(copy, "select content_hash, model_version, labelled_at, label_1 from main.int_image_inference")
    assert len(after) == len(before) + 1
    assert set(before) <= set(after)
    new_hash = _query(copy, f"select content_hash from main.int_image_files where image_id = {ids['grayscale']}")
    assert new_hash[0][0] not in {row[0] for row in before}


# --- a trained head as the labelling model (real photos) --------------------------------------------------------

SCENE_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "scene-photos"
HEAD_PHOTOS_PER_CLASS = 12


def _build_with_head(warehouse: Path, head: Path | None) -> None:
    """The image steps with VITRINE_IMAGE_HEAD set to ``head`` (unset for None), as a user would run them."""
    previous = os.environ.pop("VITRINE_IMAGE_HEAD", None)
    if head is not None:
        os.environ["VITRINE_IMAGE_HEAD"] = str(head)
    try:
        run_dbt(IMAGE_STEPS, warehouse=warehouse)
    finally:
        os.environ.pop("VITRINE_IMAGE_HEAD", None)
        if previous is not None:
            os.environ["VITRINE_IMAGE_HEAD"] = previous


def _inference(warehouse: Path) -> list[tuple]:
    return sorted(_query(warehouse, "select content_hash, model_version, labelled_at, label_1, probability_1 "
                                    "from main.int_image_inference"))


@pytest.fixture(scope="module")
def head_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small world of real scene photos labelled by the pretrained Lite0, then by a head trained on a few
    other scene photos (``HEAD_PHOTOS_PER_CLASS`` per class, none of them in the world)."""
    if not SCENE_PHOTOS.is_dir():
        pytest.skip(f"the scene photos are absent ({SCENE_PHOTOS}): the head is not tested in the warehouse")
    from vitrine.vision.backbones import load_backbone
    from vitrine.vision.transfer import EmbeddingCache, train_head

    root = tmp_path_factory.mktemp("head-world")
    world = root / "world"
    simulate_world(world, users=40, days=6, sales_per_day=4, seed=5, start=date(2026, 7, 1), photos=SCENE_PHOTOS)
    truth = pd.read_csv(world / "truth" / "images.csv")
    used = set(truth["source_photo"])
    subset = root / "head-photos"  # links to photos not in the world: the head never saw the world's images
    for folder in sorted(p for p in SCENE_PHOTOS.iterdir() if p.is_dir()):
        (subset / folder.name).mkdir(parents=True)
        free = [p for p in sorted(folder.glob("*.jpg")) if f"{folder.name}/{p.name}" not in used]
        for photo in free[:HEAD_PHOTOS_PER_CLASS]:
            (subset / folder.name / photo.name).symlink_to(photo)
    warehouse = root / "vitrine.duckdb"
    ingest_folder(world, warehouse=warehouse)
    _build_with_head(warehouse, None)
    pretrained = _inference(warehouse)

    lite0 = load_backbone("efficientnet_lite0")
    cache = EmbeddingCache()
    heads = {}
    for seed in (0, 1):
        heads[seed] = root / f"head-{seed}"
        train_head(subset, heads[seed], backbone=lite0, cache=cache, seed=seed, epochs=60, batch_size=32)
    _build_with_head(warehouse, heads[0])
    return {"warehouse": warehouse, "truth": truth, "pretrained": pretrained, "heads": heads,
            "backbone_version": lite0.model_version}


def _frame(warehouse: Path, sql: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(_query(warehouse, sql), columns=columns)


@pytest.mark.shared
def test_a_trained_head_labels_the_warehouse_images_beside_the_pretrained_classifier(
    head_world: dict[str, Any],
) -> None:
    from vitrine.vision.classes import imagenet_class_names
    from vitrine.vision.transfer import head_model_version, read_head_info

    warehouse, truth = head_world["warehouse"], head_world["truth"]
    backbone = head_world["backbone_version"]
    version = head_model_version(head_world["heads"][0])
    assert version.startswith(f"{backbone}+head-")
    assert _query(warehouse, "select distinct model_version, head_model_version from main.int_image_files") == [
        (backbone, version)
    ]
    classes = set(read_head_info(head_world["heads"][0]).classes)
    assert len(classes) == 12
    labels = _frame(
        warehouse,
        "select image_id, model_version, label_source, rank, label, probability, is_current, is_tag "
        "from main.image_labels",
        ["image_id", "model_version", "label_source", "rank", "label", "probability", "is_current", "is_tag"],
    )
    # every world image (all real, readable photos) holds both sources, each with its top 5, both current
    current = labels[labels["is_current"]]
    assert set(current["image_id"]) == set(truth["image_id"])
    per_source = current.groupby(["image_id", "label_source", "model_version"])["rank"].apply(sorted)
    assert set(per_source.index.droplevel("image_id")) == {("pretrained", backbone), ("scene_head", version)}
    assert (per_source.apply(lambda ranks: ranks == [1, 2, 3, 4, 5])).all()
    assert len(per_source) == 2 * len(truth)
    assert (current.groupby(["image_id", "label_source"])["probability"].sum() <= 1.0 + 1e-5).all()
    scene = current[current["label_source"] == "scene_head"]
    pretrained = current[current["label_source"] == "pretrained"]
    assert set(scene["label"]) <= classes  # the head's own class names
    assert set(pretrained["label"]) <= set(imagenet_class_names())  # the backbone's ImageNet classes
    # tonight's tags are the scene head's current labels, exactly
    tags = labels[labels["is_tag"]]
    assert len(tags) == len(scene) and set(tags["label_source"]) == {"scene_head"} and set(tags["model_version"]) == {
        version
    }
    top = scene[scene["rank"] == 1].set_index("image_id")["label"]
    agree = float((top == truth.set_index("image_id")["scene_class"].reindex(top.index)).mean())
    print(f"\nhead top-1 agrees with the photos' scene class on {agree:.0%} of {len(top)} world images")
    assert agree >= 0.6  # a head trained on 12 photos per class; a head that ignored its input would get ~0.1
    # the embeddings are still the backbone's: the same vectors as under the pretrained version
    rows = _query(warehouse, "select model_version, content_hash, embedding from main.image_embeddings")
    by_version: dict[str, dict[str, list[float]]] = {}
    for model_version, content, vector in rows:
        by_version.setdefault(model_version, {})[content] = vector
    assert set(by_version) == {backbone, version}
    assert by_version[version].keys() == by_version[backbone].keys()
    for content, vector in by_version[version].items():
        np.testing.assert_allclose(vector, by_version[backbone][content], atol=1e-4)


@pytest.mark.shared
def test_with_a_head_the_themes_and_tag_attractiveness_read_the_scene_tags(head_world: dict[str, Any]) -> None:
    from vitrine.themes.naming import tag_words
    from vitrine.vision.transfer import head_model_version, read_head_info

    warehouse = head_world["warehouse"]
    version = head_model_version(head_world["heads"][0])
    classes = set(read_head_info(head_world["heads"][0]).classes)
    catalog = _frame(warehouse, "select name, label_model_version from main.theme_catalog",
                     ["name", "label_model_version"])
    assert len(catalog) > 1 and set(catalog["label_model_version"]) == {version}
    fitted = {tag for (tag,) in _query(warehouse, "select distinct tag from main.int_theme_fits")}
    assert fitted and fitted <= classes  # the NMF factorised the scene tags, no ImageNet label
    words = {tag_words(c) for c in classes}
    for name in catalog["name"]:
        assert "_" not in name and set(name.split(" (")[0].split(", ")) <= words, name
    print(f"\nthemes of the scene tags: {sorted(catalog['name'])}")
    tagged = {name for (name,) in _query(warehouse, "select distinct name from main.tag_attractiveness "
                                                    "where kind = 'tag'")}
    assert tagged and tagged <= classes
    shares = _query(warehouse, "select count(distinct image_id), min(total), max(total) from (select image_id, "
                               "sum(score_pct) as total from main.image_themes group by image_id)")
    (images, low, high), = shares
    assert images > 0 and abs(low - 100) < 1e-3 and abs(high - 100) < 1e-3


@pytest.mark.shared
def test_the_same_head_relabels_nothing_and_a_new_head_everything_once(
    head_world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vitrine.vision.transfer import features as features_module
    from vitrine.vision.transfer import head_model_version

    copy = tmp_path / "copy.duckdb"
    shutil.copy(head_world["warehouse"], copy)
    before = _inference(copy)
    assert set(before) >= set(head_world["pretrained"])  # the pretrained rows stay, labelled once
    _build_with_head(copy, head_world["heads"][0])
    assert _inference(copy) == before

    def no_backbone(*args: object, **kwargs: object) -> None:
        raise AssertionError("the backbone ran although the warehouse holds every content's embedding")

    # Another head on the same backbone labels every content once more, from the stored embeddings only.
    monkeypatch.setattr(features_module, "label_images", no_backbone)
    _build_with_head(copy, head_world["heads"][1])
    after = _inference(copy)
    first, other = (head_model_version(head_world["heads"][seed]) for seed in (0, 1))
    assert set(before) <= set(after)
    assert len([row for row in after if row[1] == other]) == len(head_world["pretrained"])
    assert len(after) == len(before) + len(head_world["pretrained"])  # the pretrained classifier: nothing new

    # image_label_drift compares the two heads with each other, never a head with the pretrained classifier
    drift = {
        (source, a, b): (n, changed, overlap)
        for source, a, b, n, changed, overlap in _query(
            copy,
            "select label_source, from_model_version, to_model_version, images, top_1_changed_share, "
            "mean_top_5_overlap from main.image_label_drift",
        )
    }
    print(f"\nimage_label_drift: {drift}")
    assert set(drift) == {("scene_head", first, other), ("scene_head", other, first)}
    n, changed, overlap = drift[("scene_head", first, other)]
    assert n == len(head_world["pretrained"])
    assert 0.0 <= changed < 0.5 and overlap > 3.0  # two seeds of a head on the same photos mostly agree
    assert drift[("scene_head", other, first)] == (n, changed, overlap)

    # Unset the head: nothing is labelled, the pretrained labels are the tags again
    _build_with_head(copy, None)
    assert _inference(copy) == after
    tags = _query(copy, "select distinct label_source, model_version from main.image_labels where is_tag")
    assert tags == [("pretrained", head_world["backbone_version"])]
    heads_current = _query(copy, "select count(*) from main.image_labels "
                                 "where label_source = 'scene_head' and is_current")
    assert heads_current == [(0,)]
    (fitted_on,) = _query(copy, "select distinct label_model_version from main.theme_catalog")
    assert fitted_on == (head_world["backbone_version"],)


@pytest.mark.shared
def test_label_drift_never_pairs_the_pretrained_classifier_with_a_head(head_world: dict[str, Any]) -> None:
    pairs = _query(head_world["warehouse"], "select label_source, from_model_version, to_model_version "
                                            "from main.image_label_drift")
    assert pairs == []  # one pretrained version and one head: nothing of the same source to compare


def test_a_bad_image_head_stops_the_build_with_a_clear_error(labelled: tuple[Path, Path, dict[str, int]],
                                                              tmp_path: Path) -> None:
    from vitrine.dbt_runner import DbtError

    warehouse, _, _ = labelled
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, copy)
    before = _inference(copy)
    (tmp_path / "not-a-head").mkdir()
    with pytest.raises(DbtError, match=r"not a trained head folder"):
        _build_with_head(copy, tmp_path / "not-a-head")
    assert _inference(copy) == before  # nothing labelled, the last labels kept
