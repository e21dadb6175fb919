"""Image labelling inside the dbt build: bad files never stop the run, labelling is incremental by content."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import duckdb
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
