"""The night's HTML report, opened from disk in headless Chromium: not blank, every section there, every image loaded.

Two nights: the real one the nightly flow published (tests/nightly_world.py), and a small night carrying the tables
issue #5 adds (themes, attractiveness, home-page rankings, recommendation examples), to check those sections too.
The browser tests skip only when /usr/bin/chromium is missing and VITRINE_REQUIRE_BROWSER is unset (`make test`
installs Chromium and sets it).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
from chromium_cdp import CHROMIUM, Chromium
from PIL import Image

from vitrine.publish import Night, PublicTable, publish_night
from vitrine.report import write_report

SECTIONS = ["counts", "evaluation", "themes", "attractiveness", "users"]
NIGHT = date(2026, 3, 1)


@pytest.fixture(scope="module")
def browser() -> Chromium:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (make test does it first)"
        if os.environ.get("VITRINE_REQUIRE_BROWSER"):
            pytest.fail(message + "; VITRINE_REQUIRE_BROWSER is set, so this is an error")
        pytest.skip(message)
    with Chromium() as chromium:
        yield chromium


def _photo(path: Path, seed: int) -> str:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, 3)
    pixels = np.clip(base + rng.normal(0, 30, (120, 160, 3)), 0, 255).astype("uint8")
    Image.fromarray(pixels).save(path, "JPEG")
    return str(path)


@pytest.fixture(scope="module")
def full_night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    """A small warehouse with every public table the report knows, including issue #5's, published and reported."""
    root = tmp_path_factory.mktemp("report")
    photos = root / "photos"
    photos.mkdir()
    wh = root / "vitrine.duckdb"
    sales = list(range(1, 31))
    with duckdb.connect(str(wh)) as con:
        con.execute("create table stg_sales as select range + 1 as sale_id, 'Hotel ' || (range + 1) as title, "
                    "'Nice' as destination_city, 'France' as destination_country, date '2026-02-20' as opens_on, "
                    "date '2026-03-10' as closes_on from range(30)")
        images = [(s * 10 + p, s, p == 1, _photo(photos / f"{s}_{p}.jpg", s * 10 + p)) for s in sales for p in (1, 2)]
        images[24] = (images[24][0], 13, True, str(photos / "missing.jpg"))  # sale 13's hero photo is gone
        con.execute("create table stg_sale_images (image_id int, sale_id int, is_hero bool, image_path varchar)")
        con.executemany("insert into stg_sale_images values (?, ?, ?, ?)", images)
        con.execute("create table stg_visits as select (range % 5) + 1 as user_id, (range % 30) + 1 as sale_id, "
                    "timestamp '2026-02-25 10:00:00' + range * interval 1 minute as visited_at from range(60)")
        con.execute("create table model_evaluation as select date '2026-03-01' as run_date, "
                    "date '2026-02-22' + d::int as evaluated_on, r as recommender, g as sales_segment, "
                    "'purchases' as target, 40 as users, "
                    "0.02 * (d + 1) + 0.01 * length(r) as p_at_10, 0.3 as r_at_10, 0.2 as ndcg_at_10, "
                    "0.4 as hit_rate_at_10, 1000.0 as revenue_at_10, 0.7 as auc "
                    "from range(7) t(d), (values ('cf'), ('cb_image'), ('meta')) v(r), "
                    "(values ('all'), ('new_sales')) s(g)")
        con.execute("create table recommender_scores as select date '2026-03-01' as scored_for, u as user_id, "
                    "s as sale_id, ((u * 7 + s * 3) % 11) / 11.0 as cf_score, ((u + s * 5) % 13) / 13.0 "
                    "as cb_image_score from range(1, 6) a(u), range(1, 31) b(s)")
        con.execute("create table theme_catalog as select t as theme_id, 'theme_' || t || '_beach_coast' as name, "
                    "'beach, coast, sandbar' as top_tags from range(1, 5) x(t)")
        con.execute("create table image_themes as select i.image_id, t.theme_id, ((i.image_id * t.theme_id) % 97) "
                    "/ 97.0 * 100 as score_pct from stg_sale_images i, theme_catalog t")
        con.execute("create table sale_themes as select sale_id, theme_id, avg(score_pct) as score_pct from "
                    "image_themes join stg_sale_images using (image_id) group by all")
        con.execute("create table tag_attractiveness as select date '2026-02-01' as month, 'France' as "
                    "destination_country, k as kind, k || '_' || n as name, 0.1 as visits_share, 0.1 as sales_share, "
                    "(n - 4) / 4.0 as attractiveness from range(8) a(n), (values ('tag'), ('theme')) b(k)")
        con.execute("create table home_page_rankings as select date '2026-03-01' as scored_for, u as user_id, r as "
                    "rank, ((u * 3 + r * 7) % 30) + 1 as sale_id, 1.0 / r as score, 'meta-v1' as model_version, "
                    "'cf_score' as explanation from range(1, 6) a(u), range(1, 11) b(r)")
        con.execute("create table recommendation_examples as select date '2026-03-01' as scored_for, u as user_id, "
                    "l as list, r as rank, ((u * 5 + r * len(l)) % 30) + 1 as sale_id from range(1, 4) a(u), "
                    "range(1, 11) b(r), (values ('visited'), ('cf'), ('cb_image'), ('meta')) c(l)")
    tables = [PublicTable(name, "main", name) for name in (
        "model_evaluation", "recommender_scores", "theme_catalog", "image_themes", "sale_themes",
        "tag_attractiveness", "home_page_rankings", "recommendation_examples")]
    night = publish_night(wh, root / "serving", run_date=NIGHT, run_id="full-night", tables=tables)
    write_report(night, warehouse=wh, summary={"counts": {"customers_scored": 5}})
    return night


def _check_page(browser: Chromium, report: Path, shot: Path) -> dict[str, object]:
    assert report.is_file()
    browser.open(report.as_uri())
    browser.screenshot(shot)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.var() > 100, "the screenshot is blank"
    assert browser.evaluate("Array.from(document.querySelectorAll('section')).map(s => s.id)") == SECTIONS
    images = browser.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")
    assert images, "no image on the page"
    assert [src for src, width in images if not width] == []  # every image loaded
    assert all(not src.startswith(("/", "file:", "http")) for src, _ in images)  # relative: the folder can move
    return {
        "images": len(images),
        "chart_lines": browser.evaluate("document.querySelectorAll('#p-at-10-chart svg polyline').length"),
        "notes": browser.evaluate("Array.from(document.querySelectorAll('.note')).map(n => n.textContent)"),
    }


def test_the_real_nights_report_renders_in_a_browser(browser: Chromium, tmp_path: Path) -> None:
    from nightly_world import first_night

    first = first_night()
    night_report = Path(first.summary["report_path"]).resolve()
    seen = _check_page(browser, night_report, tmp_path / "real.png")
    assert seen["chart_lines"] >= 3  # P@10 of several recommenders over the days
    # A real night has every section: no "not built yet" note anywhere
    assert not [note for note in seen["notes"] if "not built yet" in note], seen["notes"]
    assert browser.evaluate("document.querySelectorAll('#themes .theme img').length") > 0
    assert browser.evaluate("document.querySelectorAll('#attractiveness-chart svg').length") >= 1
    assert browser.evaluate("document.querySelectorAll('#users .user').length") == 3
    for listed in ("cf", "meta"):
        assert browser.evaluate(f"document.querySelectorAll('#users [data-list={listed}] img').length") > 0


def test_the_themes_attractiveness_and_customer_lists_render_from_their_tables(
    browser: Chromium, full_night: Night, tmp_path: Path,
) -> None:
    seen = _check_page(browser, full_night.path / "report" / "index.html", tmp_path / "full.png")
    assert seen["chart_lines"] == 3
    assert browser.evaluate("document.querySelectorAll('#themes .theme').length") == 4
    assert browser.evaluate(
        "Array.from(document.querySelectorAll('#themes .theme')).map(t => t.querySelectorAll('figure').length)"
    ) == [4, 4, 4, 4]
    assert "beach, coast, sandbar" in browser.evaluate("document.querySelector('#themes').textContent")
    assert browser.evaluate("document.querySelectorAll('#attractiveness svg rect').length") == 16
    lists = browser.evaluate(
        "Array.from(document.querySelectorAll('#users .user')).map(u => Array.from(u.querySelectorAll('.list'))"
        ".map(l => [l.dataset.list, l.querySelectorAll('figure').length]))"
    )
    assert lists == [[["visited", 10], ["cf", 10], ["cb_image", 10], ["meta", 10]]] * 3
    assert seen["notes"] == []  # every section rendered from its table
    # Sale 13 (first visited sale of customer 1) lost its photo: "no photo", never a broken image.
    assert browser.evaluate("document.querySelectorAll('#users [data-list=visited] .nophoto').length") >= 1


def test_a_night_without_issue_5s_tables_says_not_built_yet(full_night: Night, tmp_path: Path) -> None:
    reduced = Night(full_night.path, {**full_night.manifest, "tables": {
        k: v for k, v in full_night.tables.items() if k in ("model_evaluation", "recommender_scores")}})
    shadow = tmp_path / "night"
    shadow.mkdir()
    (shadow / "tables").symlink_to(full_night.path / "tables")
    html = write_report(Night(shadow, reduced.manifest), warehouse=None).read_text()
    for what in ("theme_catalog / image_themes", "tag_attractiveness", "Meta model (home page) list"):
        assert f"{what}" in html and "not built yet" in html
    assert "Image content only" in html  # from recommender_scores.cb_image_score when present


@pytest.mark.parametrize("head", [True, False])
def test_the_gallery_and_the_tag_chart_say_which_labels_are_the_tags(tmp_path: Path, head: bool) -> None:
    """image_labels.is_tag names tonight's tag source: the trained scene head's labels, or the pretrained ones."""
    wh = tmp_path / "vitrine.duckdb"
    version = "lite0-abc" + ("+head-123" if head else "")
    source = "scene_head" if head else "pretrained"
    with duckdb.connect(str(wh)) as con:
        con.execute("create table theme_catalog as select 1 as theme_id, 'coast, harbor, lighthouse' as name, "
                    "'coast, harbor, lighthouse' as top_tags")
        con.execute("create table image_themes as select 7 as image_id, 1 as theme_id, 100.0 as score_pct")
        # tonight's tags, and a pretrained row that is current but not a tag when the head labels too
        con.execute("create table image_labels (image_id int, model_version varchar, label_source varchar, "
                    "rank int, label varchar, probability double, content_hash varchar, is_current bool, "
                    "is_tag bool)")
        con.execute("insert into image_labels values (7, ?, ?, 1, 'coast', 0.9, 'h7', true, true), "
                    "(7, 'lite0-abc', 'pretrained', 1, 'seashore', 0.8, 'h7', true, ?)", [version, source, not head])
        con.execute("create table tag_attractiveness as select date '2026-02-01' as month, 'all' as "
                    "destination_country, k as kind, n as name, 0.2 as attractiveness "
                    "from (values ('tag', 'coast'), ('theme', 'coast, harbor, lighthouse')) t(k, n)")
    tables = [PublicTable(name, "main", name)
              for name in ("theme_catalog", "image_themes", "image_labels", "tag_attractiveness")]
    night = publish_night(wh, tmp_path / "serving", run_date=NIGHT, run_id=f"tags-{source}", tables=tables)
    html = write_report(night, warehouse=None).read_text()
    words = "the trained scene head&#x27;s labels" if head else "the pretrained classifier&#x27;s labels"
    assert f'data-label-source="{source}">Tags: {words} ({version}).' in html
    assert f"tag ({words}) attractiveness in 2026-02" in html
    assert "coast, harbor, lighthouse" in html
