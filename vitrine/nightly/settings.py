"""Where a night reads and writes, how long each step may take, how often it retries; Prefect's environment."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vitrine.config import TELEMETRY_OFF, warehouse_path
from vitrine.dbt_runner import TARGETS, target_name

logger = logging.getLogger("vitrine.nightly")

DEFAULT_KEEP = 7


@dataclass(frozen=True)
class Timeouts:
    """Seconds each step may run before the night fails: generous, to stop a hung step, never a slow night."""

    ingest: float = 2 * 3600
    labels: float = 4 * 3600
    build: float = 6 * 3600
    publish: float = 3600
    report: float = 1800
    night: float = 12 * 3600


@dataclass(frozen=True)
class NightlySettings:
    """One night's configuration. `resolve` fills the defaults from the environment."""

    warehouse: Path
    serving: Path
    landing: Path | None = None
    images_root: Path | None = None
    keep: int = DEFAULT_KEEP
    dbt_vars: dict[str, Any] = field(default_factory=dict)
    target: str = "duckdb"  # the engine dbt builds on (vitrine.dbt_runner.TARGETS); spark: docs/spark.md
    retries: int = 2  # transient failures only (a locked warehouse, a lost connection): see steps.is_transient
    retry_delay_seconds: float = 30.0  # first retry; doubles after each
    timeouts: Timeouts = field(default_factory=Timeouts)

    @classmethod
    def resolve(
        cls, *, warehouse: str | os.PathLike[str] | None = None, serving: str | os.PathLike[str] | None = None,
        landing: str | os.PathLike[str] | None = None, images_root: str | os.PathLike[str] | None = None,
        keep: int | None = None, dbt_vars: dict[str, Any] | None = None, target: str | None = None,
    ) -> NightlySettings:
        """Explicit values, else VITRINE_WAREHOUSE / VITRINE_SERVING / VITRINE_LANDING / VITRINE_KEEP_NIGHTS /
        VITRINE_TARGET, else warehouse/vitrine.duckdb, a `serving` folder beside it and the duckdb target."""
        wh = warehouse_path(warehouse)
        serving = serving or os.environ.get("VITRINE_SERVING") or wh.parent / "serving"
        landing = landing or os.environ.get("VITRINE_LANDING") or None
        keep = keep if keep is not None else int(os.environ.get("VITRINE_KEEP_NIGHTS", DEFAULT_KEEP))
        if keep < 2:
            raise ValueError(f"keep must be at least 2 (the night served and the one before it), got {keep}")
        target = target_name(target)
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}: one of {', '.join(TARGETS)}")
        return cls(
            warehouse=wh,
            serving=Path(serving).expanduser().resolve(),
            landing=Path(landing).expanduser().resolve() if landing else None,
            images_root=Path(images_root).expanduser().resolve() if images_root else None,
            keep=keep,
            dbt_vars=dict(dbt_vars or {}),
            target=target,
        )


def prefect_environment(warehouse: Path) -> dict[str, str]:
    """The Prefect settings a local night runs with, unless the caller's environment already sets them.

    No API URL: Prefect's ephemeral mode (a temporary local server for the run, no server to start), its database
    under PREFECT_HOME = <warehouse folder>/.prefect so that it persists between nights (its migrations run once) and
    stays out of the user's home. The temporary server gets 3 minutes to start (Prefect's 20 s default is too short
    on a busy 2-core machine). The `vitrine` loggers' lines go to the flow run's logs.
    """
    return {
        "PREFECT_HOME": str(warehouse.parent / ".prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_LOGGING_EXTRA_LOGGERS": "vitrine",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    }


def configure_prefect(warehouse: Path) -> None:
    """Apply prefect_environment (and telemetry off) before Prefect is imported; explicit settings win."""
    os.environ.update(TELEMETRY_OFF)
    for key, value in prefect_environment(warehouse).items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    if "prefect" in sys.modules:
        from prefect.settings import get_current_settings

        home = Path(get_current_settings().home)
        if home != Path(os.environ["PREFECT_HOME"]).expanduser():
            logger.info("Prefect was imported before the night was configured: it keeps PREFECT_HOME=%s", home)
