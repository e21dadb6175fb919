"""What `vitrine nightly` and `vitrine serve` call: configure Prefect, then run or schedule the flow."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from vitrine.nightly.settings import NightlySettings, configure_prefect
from vitrine.progress import detach_cli_logging

logger = logging.getLogger("vitrine.nightly")

DEFAULT_CRON = "0 2 * * *"
DEFAULT_API_URL = "http://127.0.0.1:4200/api"


class NightlyError(RuntimeError):
    """The night failed (the previous night stays served); the message says at which step and why."""

    def __init__(self, message: str, summary: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.summary = summary or {}


def run_nightly(
    *, run_date: date | None = None, landing: Path | None = None, warehouse: Path | None = None,
    serving: Path | None = None, images_root: Path | None = None, keep: int | None = None,
    dbt_vars: dict[str, Any] | None = None, target: str | None = None,
) -> dict[str, Any]:
    """Run the nightly flow in this process (Prefect's ephemeral mode unless PREFECT_API_URL is set).

    Returns the night's summary; raises NightlyError with the failed step and the reason.
    """
    settings = NightlySettings.resolve(warehouse=warehouse, serving=serving, landing=landing,
                                       images_root=images_root, keep=keep, dbt_vars=dbt_vars, target=target)
    configure_prefect(settings.warehouse)
    detach_cli_logging()
    from vitrine.nightly.flow import nightly
    from vitrine.publish import last_run

    state = nightly(
        run_date=run_date, landing=str(settings.landing) if settings.landing else None,
        warehouse=str(settings.warehouse), serving=str(settings.serving),
        images_root=str(settings.images_root) if settings.images_root else None, keep=settings.keep,
        dbt_vars=settings.dbt_vars or None, target=settings.target, return_state=True,
    )
    if state.is_completed():
        return state.result()
    outcome = last_run(settings.serving) or {}
    if outcome.get("status") == "published":  # the night is served, a later step (the report) failed
        raise NightlyError(f"night {outcome.get('run_date')} published, but step {outcome.get('failed_step')} "
                           f"failed: {outcome.get('reason')}", outcome)
    if outcome.get("status") == "failed":
        still = outcome.get("still_served") or "nothing published yet"
        raise NightlyError(f"night failed at step {outcome.get('failed_step')}: {outcome.get('reason')}. "
                           f"Still served: {still}", outcome)
    raise NightlyError(f"night failed: {state.message}", outcome)


def check_server(api_url: str) -> None:
    """Raise NightlyError unless a Prefect server answers at api_url."""
    import httpx

    try:
        httpx.get(f"{api_url.rstrip('/')}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        raise NightlyError(
            f"no Prefect server at {api_url} ({exc}). Start one with `prefect server start --host 127.0.0.1` "
            "(see the README: Scheduling the night), or set PREFECT_API_URL."
        ) from exc


def serve_nightly(
    *, cron: str = DEFAULT_CRON, landing: Path | None = None, warehouse: Path | None = None,
    serving: Path | None = None, images_root: Path | None = None, keep: int | None = None,
    target: str | None = None, serve: Callable[..., Any] | None = None,
) -> None:
    """Schedule the nightly flow on a local Prefect server (PREFECT_API_URL, default 127.0.0.1:4200) and run it
    each time `cron` fires (blocks; Ctrl-C stops). Each run ranks the day after the last visit."""
    settings = NightlySettings.resolve(warehouse=warehouse, serving=serving, landing=landing,
                                       images_root=images_root, keep=keep, target=target)
    api_url = os.environ.get("PREFECT_API_URL") or DEFAULT_API_URL
    check_server(api_url)  # before Prefect is imported: it reads its settings once
    os.environ["PREFECT_API_URL"] = api_url
    configure_prefect(settings.warehouse)
    from prefect.schedules import Cron

    from vitrine.nightly.flow import nightly

    Cron(cron)  # a bad expression fails here, before anything is registered
    parameters = {
        "landing": str(settings.landing) if settings.landing else None, "warehouse": str(settings.warehouse),
        "serving": str(settings.serving), "keep": settings.keep,
        "images_root": str(settings.images_root) if settings.images_root else None, "target": settings.target,
    }
    (serve or nightly.serve)(name="vitrine-nightly", cron=cron, parameters=parameters)
