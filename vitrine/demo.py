"""`vitrine demo`: simulate a small world, then run the nightly flow on it, print what is where.

The flow ingests the world, labels its photos, builds the dbt project, passes the quality gate, publishes the
serving copy and writes the report (vitrine.nightly). The demo owns its warehouse: it rebuilds it from scratch on
each run so that the summary always describes one world. It refuses to touch a warehouse that holds data ingested
from anywhere else.

Scene tags: where a folder of travel scene photos is at hand (``../shared/datasets/travel-scenes`` beside the
project, or the folder ``VITRINE_DEMO_SCENES`` names; an empty ``VITRINE_DEMO_SCENES`` turns it off), the demo trains
a scene head on a subset of it (:data:`SCENE_PHOTOS_PER_CLASS` photos per class, frozen backbone) and labels the
world with it beside the pretrained classifier (dbt var ``image_head``), so the themes are made of scenes. Those
photos' terms allow tests and benchmarks only: the head is trained locally at demo time into the demo's cache
folder (``demo_cache/`` beside the world), never shipped; the subset's embeddings and the head are kept there and
reused while the photos, the backbone and the settings are the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb

from vitrine.config import warehouse_path
from vitrine.evaluation import format_evaluation, read_evaluation
from vitrine.night_summary import night_summary


class DemoError(RuntimeError):
    """The demo could not run (its warehouse holds other data, or a step failed)."""


logger = logging.getLogger("vitrine.demo")

SCENES_ENV = "VITRINE_DEMO_SCENES"
DEFAULT_SCENES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "travel-scenes"
SCENE_PHOTOS_PER_CLASS = 60
SCENE_HEAD_SEED = 0
CACHE_DIR = "demo_cache"
_IMAGE_ENV = {"image_backbone": "VITRINE_IMAGE_BACKBONE", "image_weights": "VITRINE_IMAGE_WEIGHTS",
              "image_class_list": "VITRINE_IMAGE_CLASS_LIST"}


def demo_scenes() -> Path | None:
    """The folder of scene photos the demo trains its scene head on: ``VITRINE_DEMO_SCENES`` when set (empty: none),
    else ``../shared/datasets/travel-scenes`` beside the project when it is there."""
    value = os.environ.get(SCENES_ENV)
    if value is not None:
        return Path(value) if value.strip() else None
    return DEFAULT_SCENES if DEFAULT_SCENES.is_dir() else None


@dataclass(frozen=True)
class SceneHead:
    path: Path
    classes: int
    photos: int
    reused: bool


def _scene_subset(scenes: Path, per_class: int) -> list[tuple[str, Path]]:
    """(class, photo) for the first ``per_class`` photos (by name) of each class folder of ``scenes``."""
    from vitrine.vision.transfer.datasets import IMAGE_SUFFIXES

    if not scenes.is_dir():
        raise DemoError(f"scene photos {scenes}: no such folder (set {SCENES_ENV} to a folder of class folders, "
                        "or to an empty value for no scene head)")
    chosen: list[tuple[str, Path]] = []
    for folder in sorted(p for p in scenes.iterdir() if p.is_dir() and not p.name.startswith(".")):
        photos = sorted(p for p in folder.iterdir()
                        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        chosen += [(folder.name, photo) for photo in photos[:per_class]]
    if len({name for name, _ in chosen}) < 2:
        raise DemoError(f"scene photos {scenes}: a scene head needs at least two class folders of photos")
    return chosen


def scene_head(scenes: Path, cache: Path, *, per_class: int = SCENE_PHOTOS_PER_CLASS,
               seed: int = SCENE_HEAD_SEED) -> SceneHead:
    """The demo's scene head, trained on ``per_class`` photos of each class folder of ``scenes`` on the frozen
    backbone the build labels with (``VITRINE_IMAGE_BACKBONE`` / ``_WEIGHTS`` / ``_CLASS_LIST``, by default
    efficientnet_lite0), in ``cache``: reused when a head of the same photos (by content), backbone version and
    settings is there, else trained (embeddings cached in ``cache/embeddings``) and older demo heads removed."""
    from vitrine.vision.transfer.head import HeadError, read_head_info
    from vitrine.vision.warehouse import LabellingConfig

    config = LabellingConfig.from_dbt_config({k: os.environ.get(v) for k, v in _IMAGE_ENV.items()}.get)
    chosen = _scene_subset(scenes, per_class)
    digest = hashlib.sha256(json.dumps({"per_class": per_class, "seed": seed,
                                        "backbone": config.backbone_version()}, sort_keys=True).encode())
    for name, photo in chosen:
        digest.update(f"{name}/{photo.name}\0".encode())
        digest.update(hashlib.sha256(photo.read_bytes()).digest())
    head = cache / f"scene-head-{digest.hexdigest()[:12]}"
    classes = len({name for name, _ in chosen})
    try:
        read_head_info(head)
        return SceneHead(head, classes, len(chosen), reused=True)
    except HeadError:
        pass  # not there, or not complete: train it
    from vitrine.vision.transfer import EmbeddingCache, train_head

    subset = cache / "scene-photos"  # links to the chosen photos: the photos themselves are never copied
    shutil.rmtree(subset, ignore_errors=True)
    for name, photo in chosen:
        (subset / name).mkdir(parents=True, exist_ok=True)
        (subset / name / photo.name).symlink_to(photo.resolve())
    shutil.rmtree(head, ignore_errors=True)
    train_head(subset, head, backbone=config.backbone, weights=config.weights, class_list=config.class_list,
               seed=seed, cache=EmbeddingCache(cache / "embeddings"))
    for old in cache.glob("scene-head-*"):
        if old != head:
            shutil.rmtree(old, ignore_errors=True)
    return SceneHead(head, classes, len(chosen), reused=False)


@dataclass(frozen=True)
class TableCount:
    schema: str
    name: str
    kind: str  # BASE TABLE or VIEW
    rows: int


def warehouse_tables(path: Path) -> list[TableCount]:
    """Every table and view of the warehouse with its row count (read-only connection)."""
    with duckdb.connect(str(path), read_only=True) as con:
        listing = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() order by table_schema, table_name"
        ).fetchall()
        return [
            TableCount(schema, name, kind, con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0])
            for schema, name, kind in listing
        ]


def _ingested_sources(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with duckdb.connect(str(path), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' "
            "and table_name = 'ingest_batches'"
        ).fetchone()[0]
        if not exists:
            return set()
        return {row[0] for row in con.execute("select distinct source_dir from raw.ingest_batches").fetchall()}


def run_demo(
    *, users: int, days: int, sales_per_day: int, seed: int, photos: Path | None, start: date,
    workdir: Path | None = None, warehouse: Path | None = None, echo: Callable[[str], None] = print,
    scenes: Path | Literal["auto"] | None = "auto", log: Path | None = None,
) -> list[TableCount]:
    """Simulate, run the night, print the summary. ``scenes``: the scene photos of the demo's scene head (``auto``:
    :func:`demo_scenes`; None: no scene head, the pretrained labels are the tags). A ``VITRINE_IMAGE_HEAD`` set by
    the user is used as is. ``log``: the run's log file (a quiet console), named in the summary."""
    from vitrine.nightly.run import NightlyError, run_nightly
    from vitrine.simulate import simulate_world

    wh = warehouse_path(warehouse)
    world = (workdir or wh.parent).resolve() / "demo_world"
    cache = world.parent / CACHE_DIR
    if scenes == "auto":
        scenes = demo_scenes()
    if os.environ.get("VITRINE_IMAGE_HEAD"):
        scenes = None
    foreign = {s for s in _ingested_sources(wh) if Path(s).resolve() != world}
    if foreign:
        raise DemoError(
            f"{wh} holds data ingested from {sorted(foreign)}; the demo rebuilds its warehouse from scratch. "
            "Point it elsewhere with --warehouse or VITRINE_WAREHOUSE."
        )
    for stale in (wh, wh.with_name(wh.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(world, ignore_errors=True)

    timings: dict[str, float] = {}

    @contextmanager
    def step(name: str) -> Iterator[None]:
        echo(f"==> {name}")
        t0 = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - t0

    head: SceneHead | None = None
    try:
        with step("simulate"):
            world_summary = simulate_world(
                world, users=users, days=days, sales_per_day=sales_per_day, seed=seed, photos=photos, start=start,
            )
        if scenes is not None:
            with step(f"scene head ({SCENE_PHOTOS_PER_CLASS} photos per class of {scenes}, cached in {cache})"):
                head = scene_head(scenes, cache)
        with step("nightly flow (ingest, label, build, gate, publish, report)"):
            night = run_nightly(run_date=world_summary.first_scoring_date, landing=world, warehouse=wh,
                                dbt_vars={"image_head": str(head.path)} if head else None)
    except (NightlyError, ValueError) as exc:
        raise DemoError(str(exc)) from exc
    timings.update({f"  {k}": v for k, v in night["step_seconds"].items()})

    tables = warehouse_tables(wh)
    echo("")
    ingested = night["ingest"] or {}
    echo("ingested:   " + ", ".join(f"{table} {rows['accepted']:,}" for table, rows in ingested.items())
         + f" (rejected: {sum(rows['rejected'] for rows in ingested.values()):,}, in raw.rejects)")
    echo("dbt build:  " + ", ".join(f"{k} {v}" for k, v in sorted(night["dbt_counts"].items())))
    for t in tables:  # the whole listing goes to the log; the console gets one line
        logger.info("%-32s %-6s %12s", f"{t.schema}.{t.name}", "view" if t.kind == "VIEW" else "table", f"{t.rows:,}")
    schemas = sorted({t.schema for t in tables})
    echo("tables:     " + ", ".join(f"{sum(t.schema == s for t in tables)} in {s}" for s in schemas)
         + (" (each with its rows in the log)" if log is not None else ""))
    echo("")
    echo(night_summary(wh, themes=5, page_rows=5))
    echo("")
    echo("Each recommender alone and the meta model on the evaluation days' purchases (model_evaluation; every")
    echo("segment and target: `vitrine evaluate` or the report):")
    echo(format_evaluation([r for r in read_evaluation(wh) if r.sales_segment == "all" and r.target == "purchases"]))
    echo("")
    echo(f"warehouse:  {wh}")
    echo(f"world:      {world} (raw contract files; truth/ holds the hidden variables)")
    echo(f"images:     {world / 'images'} ({world_summary.n_images:,} images: {world_summary.photo_mode})")
    if head is not None:
        how = "reused from the cache" if head.reused else "trained now"
        echo(f"scene head: {head.path} ({head.classes} scene classes, {head.photos:,} photos, {how}): the tags of "
             "the themes and tag_attractiveness")
    echo(f"night:      {night['run_date']} published (run {night['run_id']})")
    echo(f"serving:    {night['serving_db']}  (DuckDB 1.x and later read it; Parquet beside it in tables/)")
    echo(f"report:     {night['report_path']}  (open it in a browser, from disk)")
    echo("timings:    " + ", ".join(f"{k.strip()} {v:.1f}s" for k, v in timings.items()))
    if log is not None:
        echo(f"log:        {log}  (Prefect's task runs, dbt's nodes, TensorFlow; `vitrine demo --verbose` prints "
             "them here)")
    return tables
