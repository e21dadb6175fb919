"""NMF themes (vitrine.themes): planted themes are found, ids and names are stable, shares sum to 100.

The label rows are generated: 12 planted scenes, each with its own tags, plus tags that every scene shares,
drawn as a CNN's top 5 would be (a few of the scene's tags, sometimes a shared one, probabilities that decrease).
The CNN itself is exercised on real photos in the image tests; here the subject is the factorisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vitrine.themes import fit_themes, image_theme_shares, tag_matrix, tag_words, theme_name, themes_from_rows
from vitrine.themes.fit import themes_to_rows

SCENES = {
    "beach": ["seashore", "sandbar", "promontory", "breakwater", "lakeside", "coral reef"],
    "ski": ["alp", "ski", "mountain tent", "dogsled", "snowmobile", "valley"],
    "pool": ["swimming pool/outdoor", "patio", "sun deck", "lounge chair", "parasol", "hotel"],
    "city": ["palace", "monastery", "bell cote", "triumphal arch", "dome", "obelisk"],
    "room": ["four-poster", "quilt", "studio couch", "window shade", "wardrobe", "table lamp"],
    "food": ["restaurant", "dining table", "plate", "wine bottle", "espresso", "bakery"],
    "desert": ["dune", "camel", "sandstone", "oasis", "canyon", "mesa"],
    "forest": ["forest path", "tree house", "creek", "log cabin", "moss", "fern"],
    "boat": ["catamaran", "yacht", "dock", "gondola", "canoe", "lighthouse"],
    "spa": ["bathtub", "sauna", "hot tub", "towel", "massage room", "washbasin"],
    "golf": ["putting green", "golf cart", "fairway", "golf course", "flagpole", "bunker"],
    "safari": ["african elephant", "zebra", "savanna", "acacia", "jeep", "lion"],
}
SHARED = ["sky", "person", "building", "tree"]
# how often a scene's tags appear, most typical first (a CNN sees "seashore" on most beach photos, "coral reef" rarely)
PREVALENCE = [0.34, 0.24, 0.16, 0.11, 0.08, 0.07]


def planted_labels(n_images: int, seed: int, first_id: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    scenes = list(SCENES)
    rows = []
    for image_id in range(first_id, first_id + n_images):
        scene = scenes[image_id % len(scenes)]
        tags = list(rng.choice(SCENES[scene], size=4, replace=False, p=PREVALENCE))
        tags.append(str(rng.choice(SHARED)) if rng.random() < 0.7 else str(rng.choice(SCENES[scene])))
        probabilities = np.sort(rng.dirichlet(np.ones(6) * 0.8))[::-1][:5]
        seen = set()
        for tag, p in zip(tags, probabilities, strict=True):
            if tag not in seen:
                seen.add(tag)
                rows.append({"image_id": image_id, "label": tag, "probability": float(p)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return planted_labels(1200, seed=3)


@pytest.fixture(scope="module")
def fitted(labels: pd.DataFrame):
    return fit_themes(tag_matrix(labels, "tfidf"), 12, seed=0)


def test_the_planted_scenes_are_found(fitted) -> None:
    themes, _ = fitted
    assert len(themes) == 12
    found = 0
    for scene_tags in SCENES.values():
        # a theme whose top 3 tags all come from this scene
        if any(set(themes.top_tags(t, 3)) <= set(scene_tags) for t in range(len(themes))):
            found += 1
    assert found >= 11, f"only {found} of 12 planted scenes recovered: {themes.names}"


def test_names_are_the_top_three_tags_in_words(fitted) -> None:
    themes, _ = fitted
    for t, name in enumerate(themes.names):
        top = themes.top_tags(t, 3)
        assert name == theme_name(top)
        assert name.split(", ") == [tag.replace("/", " ") for tag in top]
        assert "_" not in name and "/" not in name
    assert len(set(themes.names)) == len(themes.names)
    assert "swimming pool outdoor" in " / ".join(themes.names)  # the planted 'swimming pool/outdoor' tag
    assert tag_words("swimming_pool/outdoor") == "swimming pool outdoor"
    assert tag_words("Egyptian_cat") == "Egyptian cat"
    assert theme_name(["coast", "harbor", "lighthouse", "boat_deck"]) == "coast, harbor, lighthouse"
    assert theme_name(["swimming_pool/outdoor", "golf_course"]) == "swimming pool outdoor, golf course"
    # two class ids that read the same are named once
    assert theme_name(["hot_spring", "hot spring", "valley"]) == "hot spring, valley"
    taken = {"coast, harbor, lighthouse", "coast, harbor, lighthouse (2)"}
    assert theme_name(["coast", "harbor", "lighthouse"], taken=taken) == "coast, harbor, lighthouse (3)"
    assert theme_name([]) == "theme"


def test_two_themes_with_the_same_top_tags_get_unique_names() -> None:
    """Two planted scenes that share their three strongest tags: the second theme's name gets a ' (2)'."""
    rows = []
    for image_id in range(1, 201):
        shared = ["coast", "harbor", "lighthouse"]
        own = ["boat_deck", "river", "iceberg"] if image_id % 2 else ["abbey", "palace", "courtyard"]
        for rank, tag in enumerate(shared + own[: 1 + image_id % 3], start=1):
            rows.append({"image_id": image_id, "label": tag, "probability": 1.0 / rank})
    themes, _ = fit_themes(tag_matrix(pd.DataFrame(rows), "probability"), 2, seed=0)
    assert len(themes) == 2
    assert [set(themes.top_tags(t, 3)) for t in range(2)] == [{"coast", "harbor", "lighthouse"}] * 2
    assert sorted(themes.names) == ["coast, harbor, lighthouse", "coast, harbor, lighthouse (2)"]


def test_a_name_of_the_old_format_is_not_kept_by_the_next_night(fitted, labels: pd.DataFrame) -> None:
    """A previous fit whose names are underscored slugs (before names were words) is renamed, ids kept."""
    from dataclasses import replace

    themes, _ = fitted
    slugged = replace(themes, names=tuple(name.replace(", ", "_").replace(" ", "_") for name in themes.names))
    tomorrow, _ = fit_themes(tag_matrix(labels, "tfidf"), 12, previous=slugged)
    assert dict(zip(tomorrow.ids, tomorrow.names, strict=True)) == dict(zip(themes.ids, themes.names, strict=True))


def test_a_rerun_on_the_same_data_gives_the_same_ids_names_and_weights(labels: pd.DataFrame, fitted) -> None:
    themes, _ = fitted
    again, _ = fit_themes(tag_matrix(labels, "tfidf"), 12, seed=0)
    assert again.ids == themes.ids and again.names == themes.names
    np.testing.assert_array_equal(again.components, themes.components)
    # and warm-started from its own previous fit, the same night rerun keeps every id and name
    warm, _ = fit_themes(tag_matrix(labels, "tfidf"), 12, previous=themes)
    assert dict(zip(warm.ids, warm.names, strict=True)) == dict(zip(themes.ids, themes.names, strict=True))


def test_one_percent_new_images_keeps_at_least_90_percent_of_the_names(labels: pd.DataFrame, fitted) -> None:
    themes, _ = fitted
    grown = pd.concat([labels, planted_labels(12, seed=99, first_id=10_000)])
    tomorrow, _ = fit_themes(tag_matrix(grown, "tfidf"), 12, previous=themes)
    before = dict(zip(themes.ids, themes.names, strict=True))
    after = dict(zip(tomorrow.ids, tomorrow.names, strict=True))
    kept = sum(1 for theme_id, name in before.items() if after.get(theme_id) == name)
    assert kept / len(before) >= 0.9, (before, after)


def test_ids_follow_the_themes_not_their_order(labels: pd.DataFrame, fitted) -> None:
    """Tonight's themes matched to yesterday's keep their ids even when a fresh fit orders them differently."""
    themes, _ = fitted
    other, _ = fit_themes(tag_matrix(labels.sample(frac=1.0, random_state=5), "tfidf"), 12, previous=themes)
    by_name_before = dict(zip(themes.names, themes.ids, strict=True))
    same = [name for name in other.names if name in by_name_before]
    assert len(same) >= 11
    for name in same:
        assert other.ids[other.names.index(name)] == by_name_before[name]


def test_a_new_theme_gets_a_new_id(labels: pd.DataFrame) -> None:
    nine_scenes = labels[labels["image_id"] % 12 < 9]
    nine, _ = fit_themes(tag_matrix(nine_scenes, "tfidf"), 9, seed=0)
    twelve, _ = fit_themes(tag_matrix(labels, "tfidf"), 12, previous=nine)
    assert set(nine.ids) <= set(twelve.ids)
    assert len(set(twelve.ids) - set(nine.ids)) == 3
    assert min(set(twelve.ids) - set(nine.ids)) > max(nine.ids)


def test_image_shares_sum_to_100_and_follow_the_planted_scene(labels: pd.DataFrame, fitted) -> None:
    themes, w = fitted
    x = tag_matrix(labels, "tfidf")
    shares = image_theme_shares(x, themes)
    sums = shares.groupby("image_id")["score_pct"].sum()
    assert len(sums) == x.shape[0]
    np.testing.assert_allclose(sums.to_numpy(), 100.0, atol=1e-3)
    # W solved for the fixed H agrees with the fit's own W
    own = image_theme_shares(x, themes, w=w)
    merged = shares.merge(own, on=["image_id", "theme_id"], how="outer").fillna(0.0)
    assert (merged["score_pct_x"] - merged["score_pct_y"]).abs().max() < 1.0
    # the main theme of images of one planted scene is mostly one and the same theme
    main = shares.sort_values("score_pct", ascending=False).drop_duplicates("image_id")
    main = main.assign(scene=main["image_id"] % 12)
    purity = main.groupby("scene")["theme_id"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert purity.min() > 0.8, purity.to_dict()


def test_tfidf_weighs_a_tag_on_every_image_down() -> None:
    labels = pd.DataFrame({
        "image_id": [1, 1, 2, 2, 3, 3],
        "label": ["sky", "beach", "sky", "alp", "sky", "beach"],
        "probability": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    })
    raw = tag_matrix(labels, "probability")
    tfidf = tag_matrix(labels, "tfidf")
    sky = raw.tags.index("sky")
    beach = raw.tags.index("beach")
    assert raw.values[0, sky] == raw.values[0, beach]
    assert tfidf.values[0, sky] < tfidf.values[0, beach]
    with pytest.raises(ValueError, match="unknown theme weighting"):
        tag_matrix(labels, "bm25")


def test_rows_round_trip_and_small_inputs(fitted) -> None:
    themes, _ = fitted
    back = themes_from_rows(themes_to_rows(themes))
    assert back is not None
    assert back.ids == tuple(sorted(themes.ids)) or set(back.ids) == set(themes.ids)
    for theme_id, name in zip(themes.ids, themes.names, strict=True):
        t = back.ids.index(theme_id)
        assert back.names[t] == name
        np.testing.assert_allclose(back.aligned_to(themes.tags)[t], themes.components[themes.ids.index(theme_id)],
                                   atol=1e-6)
    tiny = planted_labels(5, seed=1)
    few, w = fit_themes(tag_matrix(tiny, "tfidf"), 30)
    assert len(few) <= 5 and w.shape == (5, len(few))
    empty, _ = fit_themes(tag_matrix(tiny.iloc[0:0], "tfidf"), 30)
    assert len(empty) == 0
    assert themes_from_rows(themes_to_rows(empty)) is None
