"""A deterministic simulated flash-sale travel retailer that writes the raw data contract.

``simulate_world(out, users=..., days=..., sales_per_day=..., seed=...)`` writes sales, sale_images, users,
visits and purchases (CSV or Parquet) with their images, plus the hidden truth (archetypes, preferences,
budgets...) for evaluation. Modules: ``catalog`` (archetypes, destinations, vocabulary, seasonality, scene
classes), ``sales`` (the catalogue of flash sales), ``population`` (users), ``behaviour`` (visits, purchases),
``photos`` (real photo assignment, placeholder images), ``writer`` (files out), ``world`` (the orchestration
and its summary).
"""

from vitrine.simulate.world import WorldSummary, simulate_world

__all__ = ["WorldSummary", "simulate_world"]
