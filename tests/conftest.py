"""Fixtures shared by the test modules: one small simulated world, ingested and built once per session, and the
EfficientNet-Lite0 backbone, loaded once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from vitrine.dbt_runner import run_dbt
from vitrine.ingest import ingest_folder
from vitrine.simulate import simulate_world
from vitrine.vision.backbones import Backbone, load_backbone

# Real photos make the themes meaningful; without ../shared the simulator draws placeholder images.
SCENE_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "scene-photos"


@pytest.fixture(scope="session")
def scored_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 400-customer, 60-day world after a whole `dbt build` (images, themes, recommenders, meta model)."""
    root = tmp_path_factory.mktemp("scored_world")
    folder = root / "world"
    simulate_world(
        folder, users=400, days=60, sales_per_day=10, seed=5, start=date(2026, 1, 1),
        photos=SCENE_PHOTOS if SCENE_PHOTOS.is_dir() else None,
    )
    warehouse = root / "vitrine.duckdb"
    ingest_folder(folder, warehouse=warehouse)
    run_dbt(["build", "--exclude", "test_type:unit"], warehouse=warehouse)
    return warehouse, folder


@pytest.fixture(scope="session")
def lite0() -> Backbone:
    """EfficientNet-Lite0 with its packaged ImageNet weights (tests read it, none changes its weights)."""
    return load_backbone("efficientnet_lite0")
