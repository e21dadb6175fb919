"""Where things live, and the environment every Vitrine process runs with."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PROFILES_DIR = PROJECT_ROOT
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "vitrine.duckdb"

# Telemetry off, whatever the caller's shell says (dbt, Prefect and anything that honours DO_NOT_TRACK).
TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def disable_telemetry() -> None:
    os.environ.update(TELEMETRY_OFF)


def warehouse_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The DuckDB file: an explicit path, else $VITRINE_WAREHOUSE, else warehouse/vitrine.duckdb (absolute)."""
    chosen = path if path is not None else os.environ.get("VITRINE_WAREHOUSE") or DEFAULT_WAREHOUSE
    return Path(chosen).expanduser().resolve()
