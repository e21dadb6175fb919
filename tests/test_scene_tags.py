"""The demo's scene head: trained on a subset of the shared travel scenes into the demo's cache, reused while the
photos and settings are the same, and used by the demo's night so that its themes are made of scene tags.

Real components: the EfficientNet-Lite0 backbone, a head trained on real photos, the nightly flow's dbt build.
The travel scenes may be used in tests only, read from ``../shared/datasets/travel-scenes`` (skipped where absent);
the tests link a few of them into a temporary folder and never copy them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from vitrine.demo import SceneHead, demo_scenes, run_demo, scene_head

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
TRAVEL_SCENES = SHARED / "travel-scenes"
SCENE_PHOTOS = SHARED / "scene-photos"
CLASSES = ("coast", "harbor", "lighthouse", "mountain", "ski_slope", "bedroom")
PHOTOS_PER_CLASS = 8


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six travel scene classes, as links to the first photos of each (more than the head takes per class)."""
    if not TRAVEL_SCENES.is_dir():
        pytest.skip(f"the travel scenes are absent ({TRAVEL_SCENES}): the demo's scene head is not tested")
    root = tmp_path_factory.mktemp("scenes")
    for name in CLASSES:
        (root / name).mkdir()
        for photo in sorted((TRAVEL_SCENES / name).glob("*.jpg"))[: PHOTOS_PER_CLASS + 2]:
            (root / name / photo.name).symlink_to(photo)
    return root


def test_the_default_scenes_folder_and_its_switch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VITRINE_DEMO_SCENES", str(tmp_path))
    assert demo_scenes() == tmp_path
    monkeypatch.setenv("VITRINE_DEMO_SCENES", "")
    assert demo_scenes() is None
    monkeypatch.delenv("VITRINE_DEMO_SCENES")
    assert demo_scenes() == (TRAVEL_SCENES if TRAVEL_SCENES.is_dir() else None)


@pytest.mark.shared
def test_the_scene_head_is_trained_once_and_reused_until_its_photos_change(
    scenes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vitrine.vision import transfer
    from vitrine.vision.transfer import head_model_version, read_head_info

    cache = tmp_path / "cache"
    first = scene_head(scenes, cache, per_class=PHOTOS_PER_CLASS)
    assert isinstance(first, SceneHead) and not first.reused
    assert (first.classes, first.photos) == (len(CLASSES), len(CLASSES) * PHOTOS_PER_CLASS)
    info = read_head_info(first.path)
    assert info.classes == tuple(sorted(CLASSES)) and info.mode == "single"
    assert (cache / "embeddings").is_dir() and list((cache / "embeddings").glob("*.npz"))
    # the subset the head saw is links to the shared photos, never copies
    linked = [p for p in (cache / "scene-photos").rglob("*.jpg")]
    assert len(linked) == len(CLASSES) * PHOTOS_PER_CLASS and all(p.is_symlink() for p in linked)

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scene head was trained again although the cache holds it")

    monkeypatch.setattr(transfer, "train_head", no_training)
    again = scene_head(scenes, cache, per_class=PHOTOS_PER_CLASS)
    assert again == SceneHead(first.path, first.classes, first.photos, reused=True)
    assert head_model_version(again.path) == info.model_version
    monkeypatch.undo()

    # another photo in a class (the subset changes): a new head, the old one removed; cached embeddings reused
    extra = sorted((scenes / "coast").iterdir())[0]
    (scenes / "coast" / "0.jpg").symlink_to(extra.resolve())  # sorts first: now in the subset
    try:
        changed = scene_head(scenes, cache, per_class=PHOTOS_PER_CLASS)
    finally:
        (scenes / "coast" / "0.jpg").unlink()
    assert not changed.reused and changed.path != first.path
    assert not first.path.exists() and sorted(cache.glob("scene-head-*")) == [changed.path]


@pytest.mark.shared
def test_the_demo_labels_its_world_with_the_scene_head(scenes: Path, tmp_path: Path) -> None:
    """A small demo night: image_labels holds both sources for each photo, the themes are scene themes."""
    if not SCENE_PHOTOS.is_dir():
        pytest.skip(f"the scene photos are absent ({SCENE_PHOTOS})")
    lines: list[str] = []
    warehouse = tmp_path / "demo.duckdb"
    run_demo(users=80, days=20, sales_per_day=4, seed=3, photos=SCENE_PHOTOS, start=date(2026, 1, 1),
             workdir=tmp_path, warehouse=warehouse, echo=lines.append, scenes=scenes)
    text = "\n".join(lines)
    assert "scene head:" in text and "trained now" in text
    words = {name.replace("_", " ") for name in CLASSES}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sources = con.execute(
            "select image_id, list(distinct label_source order by label_source) from main.image_labels "
            "where is_current group by image_id"
        ).fetchall()
        assert sources and all(found == ["pretrained", "scene_head"] for _, found in sources)
        tags = {label for (label,) in con.execute(
            "select distinct label from main.image_labels where is_tag").fetchall()}
        assert tags <= set(CLASSES)
        names = [name for (name,) in con.execute(
            "select name from main.theme_catalog order by theme_id").fetchall()]
        assert names and len(set(names)) == len(names)
        for name in names:
            assert set(name.split(" (")[0].split(", ")) <= words, name
    print(f"\ndemo themes of the scene head: {names}")
