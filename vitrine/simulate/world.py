"""`simulate_world`: the whole simulated flash-sale world, written as raw contract files plus hidden truth.

The steps, each with its own random stream spawned from ``seed`` (so that, e.g., real photos or placeholders
give the same sales, users and events): sales -> images -> users -> day-by-day visits and purchases (streamed
to disk) -> truth files -> world.json (written last: its presence marks a complete world).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vitrine.contract import PURCHASES, SALE_IMAGES, SALES, USERS, VISITS
from vitrine.progress import progress as progress_bar
from vitrine.simulate.behaviour import simulate_days
from vitrine.simulate.catalog import (
    ARCHETYPE_NAMES,
    DESTINATION_COUNTRIES,
    HOME_COUNTRIES,
    SCENE_CLASSES,
    activity_factor,
    calendar,
    seasonal_matrix,
)
from vitrine.simulate.photos import list_photo_dir, plan_images, write_images
from vitrine.simulate.population import draw_population
from vitrine.simulate.sales import draw_sales
from vitrine.simulate.writer import (
    IMAGES_DIR,
    TRUTH_DIR,
    WORLD_JSON,
    ContractTableWriter,
    FileFormat,
    clear_previous_world,
    write_truth_csv,
    write_world_json,
)

SIMULATOR_VERSION = 1
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class WorldSummary:
    """What :func:`simulate_world` wrote."""

    out: Path
    counts: dict[str, int]  # rows per contract table
    n_images: int
    photo_mode: str  # "real photos from <dir>" or "generated placeholder images"
    start: date  # first event day
    first_scoring_date: date  # start + days: sales are open, no event yet
    files: list[Path]  # contract tables, truth files and world.json (images are under images_dir)
    images_dir: Path
    file_format: FileFormat
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "counts": dict(self.counts),
            "n_images": self.n_images,
            "photo_mode": self.photo_mode,
            "start": self.start.isoformat(),
            "first_scoring_date": self.first_scoring_date.isoformat(),
            "files": [str(p) for p in self.files],
            "images_dir": str(self.images_dir),
            "file_format": self.file_format,
            "parameters": dict(self.parameters),
        }


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def simulate_world(
    out: Path,
    *,
    users: int,
    days: int,
    sales_per_day: int,
    seed: int,
    photos: Path | None = None,
    start: date = date(2026, 1, 1),
    file_format: Literal["csv", "parquet"] = "csv",
    progress: Callable[[str], None] | None = None,
) -> WorldSummary:
    """Write a deterministic simulated world into ``out`` (see the module docstring).

    Events happen on days start .. start + days - 1; sales open on every day of start .. start + days, so
    sales are open on the first scoring date start + days. Raises ValueError on bad parameters.
    """
    users = _check_int("users", users, 1)
    days = _check_int("days", days, 1)
    sales_per_day = _check_int("sales_per_day", sales_per_day, 1)
    seed = _check_int("seed", seed, 0)
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")
    if isinstance(start, datetime):
        start = start.date()
    if not isinstance(start, date):
        raise ValueError(f"start must be a date, got {start!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} exists and is not a folder")
    listing = list_photo_dir(Path(photos)) if photos is not None else None
    photo_mode = f"real photos from {photos}" if photos is not None else "generated placeholder images"

    def say(message: str) -> None:
        if progress is not None:
            progress(message)

    out.mkdir(parents=True, exist_ok=True)
    clear_previous_world(out)
    rng_sales, rng_images, rng_files, rng_users, rng_events = np.random.default_rng(seed).spawn(5)
    first_epoch_day = (start - _EPOCH).days
    all_days = calendar(start, days + 1)
    season = seasonal_matrix(all_days)
    activity = activity_factor(all_days)
    files: list[Path] = []

    # Sales.
    say(f"sales: {(days + 1) * sales_per_day:,} sales opening over {days + 1} days")
    sales = draw_sales(rng_sales, season, days + 1, sales_per_day)
    writer = ContractTableWriter(out, SALES, file_format)
    writer.write({
        "sale_id": sales.sale_id,
        "title": sales.title,
        "description": sales.description,
        "destination_city": sales.city,
        "destination_country": [DESTINATION_COUNTRIES[i] for i in sales.country],
        "latitude": sales.latitude,
        "longitude": sales.longitude,
        "price_eur": np.round(sales.price_eur, 2),
        "opens_on": first_epoch_day + sales.open_day,
        "closes_on": first_epoch_day + sales.close_day,
    })
    writer.close()
    counts = {SALES.name: writer.rows}
    files.append(writer.path)

    # Images.
    plan = plan_images(rng_images, sales.archetype)
    say(f"images: {plan.size:,} ({photo_mode})")
    with progress_bar("simulate: images", total=plan.size, unit="images") as bar:
        uris, sources = write_images(
            rng_files, plan, out / IMAGES_DIR, Path(photos) if photos is not None else None, listing,
            on_image=bar.advance,
        )
    writer = ContractTableWriter(out, SALE_IMAGES, file_format)
    writer.write({"image_id": plan.image_id, "sale_id": plan.sale_id, "uri": uris, "position": plan.position})
    writer.close()
    counts[SALE_IMAGES.name] = writer.rows
    files.append(writer.path)

    # Users.
    say(f"users: {users:,}")
    population = draw_population(rng_users, users, days)
    writer = ContractTableWriter(out, USERS, file_format)
    home_codes = np.array([c for c, _ in HOME_COUNTRIES], dtype=object)
    writer.write({
        "user_id": population.user_id,
        "signed_up_on": first_epoch_day + population.signup_day,
        "home_country": home_codes[population.home_country].tolist(),
    })
    writer.close()
    counts[USERS.name] = writer.rows
    files.append(writer.path)

    # Visits (streamed day by day) and purchases.
    visits = ContractTableWriter(out, VISITS, file_format)
    bought: dict[str, list[np.ndarray]] = {"user": [], "sale": [], "time": [], "amount": []}
    say(f"events: {days} days")
    with progress_bar("simulate: events", total=days, unit="days") as bar:
        for events in simulate_days(rng_events, population, sales, season, activity, first_epoch_day, days):
            visits.write({
                "user_id": events.visit_user, "sale_id": events.visit_sale, "visited_at": events.visit_time
            })
            bought["user"].append(events.purchase_user)
            bought["sale"].append(events.purchase_sale)
            bought["time"].append(events.purchase_time)
            bought["amount"].append(events.purchase_amount)
            bar.advance()
    visits.close()
    counts[VISITS.name] = visits.rows
    files.append(visits.path)
    p_user = np.concatenate(bought["user"])
    writer = ContractTableWriter(out, PURCHASES, file_format)
    writer.write({
        "order_id": np.arange(1, len(p_user) + 1, dtype=np.int64),
        "user_id": p_user,
        "sale_id": np.concatenate(bought["sale"]),
        "purchased_at": np.concatenate(bought["time"]),
        "amount_eur": np.round(np.concatenate(bought["amount"]), 2),
    })
    writer.close()
    counts[PURCHASES.name] = writer.rows
    files.append(writer.path)

    # Truth: the hidden variables, for evaluation only.
    say("truth files")
    truth = out / TRUTH_DIR
    arch_names = np.array(ARCHETYPE_NAMES, dtype=object)
    per_sale = np.bincount(plan.sale_id - 1, minlength=sales.size)
    hero_class = np.array([""] * sales.size, dtype=object)
    hero = plan.position == 1
    hero_class[plan.sale_id[hero] - 1] = np.array(SCENE_CLASSES, dtype=object)[plan.scene_class[hero]]
    write_truth_csv(truth / "sales.csv", {
        "sale_id": sales.sale_id,
        "archetype": arch_names[sales.archetype].tolist(),
        "attractiveness": np.round(sales.attractiveness, 4),
        "stars": sales.stars,
        "nights": sales.nights,
        "duration_days": sales.close_day - sales.open_day + 1,
        "n_images": per_sale,
        "hero_scene_class": hero_class.tolist(),
    })
    user_truth: dict[str, Any] = {
        "user_id": population.user_id,
        "budget_eur": np.round(population.budget_eur, 2),
        "activity": np.round(population.activity, 4),
        "favourite_country": [DESTINATION_COUNTRIES[i] for i in population.favourite_country],
        "main_archetype": arch_names[np.argmax(population.preference, axis=1)].tolist(),
    }
    for i, name in enumerate(ARCHETYPE_NAMES):
        user_truth[f"pref_{name}"] = np.round(population.preference[:, i], 4)
    write_truth_csv(truth / "users.csv", user_truth)
    write_truth_csv(truth / "images.csv", {
        "image_id": plan.image_id,
        "sale_id": plan.sale_id,
        "scene_class": np.array(SCENE_CLASSES, dtype=object)[plan.scene_class].tolist(),
        "source_photo": sources,
    })
    files.extend(truth / name for name in ("sales.csv", "users.csv", "images.csv"))

    first_scoring_date = start + timedelta(days=days)
    parameters: dict[str, Any] = {
        "users": users,
        "days": days,
        "sales_per_day": sales_per_day,
        "seed": seed,
        "photos": str(photos) if photos is not None else None,
        "start": start.isoformat(),
        "file_format": file_format,
    }
    files.append(out / WORLD_JSON)
    write_world_json(out / WORLD_JSON, {
        "simulator": "vitrine.simulate",
        "simulator_version": SIMULATOR_VERSION,
        "parameters": parameters,
        "start": start.isoformat(),
        "last_event_date": (first_scoring_date - timedelta(days=1)).isoformat(),
        "first_scoring_date": first_scoring_date.isoformat(),
        "photo_mode": photo_mode,
        "counts": counts,
        "n_images": plan.size,
        "images_dir": IMAGES_DIR,
        "archetypes": list(ARCHETYPE_NAMES),
        "files": [p.relative_to(out).as_posix() for p in files],
    })
    say(f"done: {counts[VISITS.name]:,} visits, {counts[PURCHASES.name]:,} purchases")
    return WorldSummary(
        out=out,
        counts=counts,
        n_images=plan.size,
        photo_mode=photo_mode,
        start=start,
        first_scoring_date=first_scoring_date,
        files=files,
        images_dir=out / IMAGES_DIR,
        file_format=file_format,
        parameters=parameters,
    )
