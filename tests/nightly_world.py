"""One small simulated world and its first published night, shared by the nightly and report tests (built once per
pytest process: the first night labels every photo and builds everything, the slow part)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from vitrine.config import PROJECT_ROOT
from vitrine.nightly.settings import configure_prefect
from vitrine.simulate import WorldSummary, simulate_world

# Prefect's database for the tests' flow runs: kept between test sessions (its migrations run once), out of $HOME.
TEST_PREFECT_HOME = PROJECT_ROOT / "warehouse" / ".prefect-tests"


@dataclass(frozen=True)
class FirstNight:
    root: Path
    world: WorldSummary
    warehouse: Path
    serving: Path
    run_date: date
    summary: dict[str, Any]


@functools.cache
def first_night() -> FirstNight:
    from vitrine.nightly.run import run_nightly

    root = Path(tempfile.mkdtemp(prefix="vitrine-nightly-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    world = simulate_world(root / "world", users=200, days=40, sales_per_day=5, seed=11, start=date(2026, 1, 1))
    warehouse = root / "wh" / "vitrine.duckdb"
    os.environ.setdefault("PREFECT_HOME", str(TEST_PREFECT_HOME))
    configure_prefect(warehouse)
    summary = run_nightly(run_date=world.first_scoring_date, landing=world.out, warehouse=warehouse,
                          serving=root / "serving")
    return FirstNight(root, world, warehouse, root / "serving", world.first_scoring_date, summary)
