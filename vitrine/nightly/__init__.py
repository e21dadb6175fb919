"""The nightly run: ingest new files, label new images, dbt build, quality gate, publish, report (a Prefect flow).

Modules: ``settings`` (paths, retention, retries, timeouts, Prefect's environment), ``steps`` (the steps as plain
functions, no Prefect), ``dbt_nodes`` (dbt with each node as a Prefect task run), ``artifact``
(the flow run's markdown and table), ``flow`` (the Prefect flow and its tasks), ``run`` (what `vitrine nightly` and
`vitrine serve` call). ``flows/nightly.py`` re-exports the flow for Prefect deployments.
"""

from vitrine.nightly.settings import NightlySettings

__all__ = ["NightlySettings"]
