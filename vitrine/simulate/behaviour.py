"""What customers do each day: visits to open sales and the purchases some visits turn into.

:func:`simulate_days` yields one :class:`DayEvents` per day of the window, vectorised over users and visits
(one Python iteration per day). Each active user makes Poisson(rate x activity x weekday/month factor x
seasonal interest) visits; each visit picks one of the day's open sales with probability proportional to

    preference[archetype] x seasonality(archetype, day) x attractiveness x price fit x favourite-country boost

where price fit = exp(-log(price / budget)^2 / (2 x 0.5^2)). Sampling is exact up to the budget, which is
discretised into bins of 10 % for the choice (two stages: the archetype, then the sale within it, from
per-group cumulative tables). A visit converts with a small probability that grows with the preference for the
sale's archetype and the price fit, and falls when the price exceeds the budget; a user buys a sale at most
once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vitrine.simulate.catalog import ARCHETYPES, DESTINATION_COUNTRIES, HOURLY_ACTIVITY
from vitrine.simulate.population import BUDGET_MAX_EUR, BUDGET_MIN_EUR, Population
from vitrine.simulate.sales import Sales

SECONDS_PER_DAY = 86_400
# Visits per user and day at activity 1 and factors 1.
VISIT_RATE = 0.232
PRICE_FIT_SIGMA = 0.5
FAVOURITE_COUNTRY_BOOST = 2.5
BUDGET_BIN_WIDTH = 0.1  # in log(EUR): the choice model's budget resolution
# Conversion: base x min(preference x n_archetypes, 3)^0.5 x price fit x over-budget penalty
# x attractiveness^0.3.
CONVERSION_BASE = 0.02
CONVERSION_MAX = 0.5
OVER_BUDGET_PENALTY = 2.5  # exp(-2.5 x log(price / budget)) when the price is above the budget
# Delay between the visit and the purchase (same day): 2 minutes + exponential with this mean.
PURCHASE_DELAY_MIN_S = 120
PURCHASE_DELAY_MEAN_S = 45 * 60
TRAVELLERS = np.array([1, 2, 3, 4])
TRAVELLER_WEIGHTS = np.array([0.25, 0.5, 0.1, 0.15])


@dataclass(frozen=True)
class DayEvents:
    """One day's events, sorted: visits by (visited_at, user_id, sale_id), purchases by purchased_at."""

    day: int
    visit_user: np.ndarray  # int64 user_id
    visit_sale: np.ndarray  # int64 sale_id
    visit_time: np.ndarray  # int64 seconds since 1970-01-01 UTC
    purchase_user: np.ndarray
    purchase_sale: np.ndarray
    purchase_time: np.ndarray
    purchase_amount: np.ndarray  # float64 EUR
    purchase_travellers: np.ndarray  # int64


def _budget_bins(budget: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin index per user and the bins' centres, in log(EUR)."""
    lo = np.log(BUDGET_MIN_EUR)
    n_bins = int(np.ceil((np.log(BUDGET_MAX_EUR) - lo) / BUDGET_BIN_WIDTH)) + 1
    index = np.clip(((np.log(budget) - lo) / BUDGET_BIN_WIDTH).astype(np.int64), 0, n_bins - 1)
    centres = lo + (np.arange(n_bins) + 0.5) * BUDGET_BIN_WIDTH
    return index, centres


def _draw_categorical_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category per row of a (rows, k) weight matrix."""
    cdf = np.cumsum(weights, axis=1)
    target = rng.random(weights.shape[0]) * cdf[:, -1]
    return np.minimum((cdf < target[:, None]).sum(axis=1), weights.shape[1] - 1)


def simulate_days(
    rng: np.random.Generator,
    population: Population,
    sales: Sales,
    season: np.ndarray,
    activity: np.ndarray,
    first_epoch_day: int,
    days: int,
) -> Iterator[DayEvents]:
    """Yield the events of days 0..days-1; ``season`` is (archetype, day), ``activity`` the per-day factor."""
    n_arch = len(ARCHETYPES)
    n_countries = len(DESTINATION_COUNTRIES)
    budget_bin, bin_centres = _budget_bins(population.budget_eur)
    n_bins = len(bin_centres)
    n_groups = n_bins * n_countries
    group = budget_bin * n_countries + population.favourite_country  # (budget bin, favourite country)
    log_budget = np.log(population.budget_eur)
    log_price = np.log(sales.price_eur)
    user_rate = VISIT_RATE * population.activity
    hour_cdf = np.cumsum(HOURLY_ACTIVITY) / np.sum(HOURLY_ACTIVITY)
    traveller_cdf = np.cumsum(TRAVELLER_WEIGHTS)
    bought = np.empty(0, dtype=np.int64)  # keys user_index * n_sales + sale_index already purchased
    n_sales = sales.size
    group_offset = 2.0 * np.arange(n_groups)  # rows of normalised cdfs laid end to end, each in [2g, 2g + 1]

    for day in range(days):
        n_active = int(np.searchsorted(population.signup_day, day, side="right"))
        is_open = (sales.open_day <= day) & (sales.close_day >= day)
        open_idx = np.flatnonzero(is_open)
        open_idx = open_idx[np.argsort(sales.archetype[open_idx], kind="stable")]
        arch_open = sales.archetype[open_idx]
        bounds = np.searchsorted(arch_open, np.arange(n_arch + 1))  # block of each archetype in open_idx
        n_open = len(open_idx)
        season_d = season[:, day]

        # Per group of users (budget bin x favourite country): weight of each open sale, before preferences.
        base = sales.attractiveness[open_idx] * season_d[arch_open]
        fit = np.exp(-((log_price[open_idx][None, :] - bin_centres[:, None]) ** 2) / (2 * PRICE_FIT_SIGMA**2))
        boost = np.where(
            sales.country[open_idx][None, :] == np.arange(n_countries)[:, None], FAVOURITE_COUNTRY_BOOST, 1.0
        )
        weight = (fit[:, None, :] * boost[None, :, :] * base).reshape(n_groups, n_open)
        cum = np.zeros((n_groups, n_open + 1))
        np.cumsum(weight, axis=1, out=cum[:, 1:])
        arch_mass = cum[:, bounds[1:]] - cum[:, bounds[:-1]]  # (group, archetype)
        cum /= cum[:, -1:]
        flat_cdf = (cum[:, 1:] + group_offset[:, None]).ravel()

        # How many visits each active user makes today.
        interest = population.preference[:n_active] @ season_d
        counts = rng.poisson(user_rate[:n_active] * activity[day] * interest)
        visitors = np.flatnonzero(counts)
        v_user = np.repeat(visitors, counts[visitors])
        v_group = group[v_user]

        # Which sale: the archetype first, then the sale within the archetype's block.
        v_pref = population.preference[v_user]
        v_arch = _draw_categorical_rows(rng, v_pref * arch_mass[v_group])
        lo_cdf = cum[v_group, bounds[v_arch]]
        hi_cdf = cum[v_group, bounds[v_arch + 1]]
        target = lo_cdf + rng.random(len(v_user)) * (hi_cdf - lo_cdf) + group_offset[v_group]
        pos = np.searchsorted(flat_cdf, target, side="right") - v_group * n_open
        pos = np.clip(pos, bounds[v_arch], bounds[v_arch + 1] - 1)
        v_sale = open_idx[pos]

        # When: an hour from the daily profile, a uniform second within it.
        day_start = (first_epoch_day + day) * SECONDS_PER_DAY
        hour = np.searchsorted(hour_cdf, rng.random(len(v_user)), side="right").clip(0, 23)
        v_time = day_start + hour * 3600 + rng.integers(0, 3600, len(v_user))

        # Purchases.
        log_ratio = log_price[v_sale] - log_budget[v_user]
        prob = (
            CONVERSION_BASE
            * np.sqrt(np.minimum(v_pref[np.arange(len(v_user)), v_arch] * n_arch, 3.0))
            * np.exp(-(log_ratio**2) / (2 * PRICE_FIT_SIGMA**2))
            * np.exp(-OVER_BUDGET_PENALTY * np.maximum(log_ratio, 0.0))
            * sales.attractiveness[v_sale] ** 0.3
        )
        buys = np.flatnonzero(rng.random(len(v_user)) < np.minimum(prob, CONVERSION_MAX))
        delay = PURCHASE_DELAY_MIN_S + rng.exponential(PURCHASE_DELAY_MEAN_S, len(buys)).astype(np.int64)
        p_time = np.minimum(v_time[buys] + delay, day_start + SECONDS_PER_DAY - 1)
        p_user, p_sale = v_user[buys], v_sale[buys]
        pick = np.searchsorted(traveller_cdf, rng.random(len(buys)), side="right")
        travellers = TRAVELLERS[pick.clip(0, len(TRAVELLERS) - 1)]
        # A user buys a sale at most once: keep the first purchase of the day, drop those bought before.
        order = np.lexsort((p_sale, p_user, p_time))
        p_user, p_sale, p_time, travellers = p_user[order], p_sale[order], p_time[order], travellers[order]
        key = p_user * n_sales + p_sale
        _, first = np.unique(key, return_index=True)
        keep = np.zeros(len(key), dtype=bool)
        keep[first] = True
        keep &= ~np.isin(key, bought)
        p_user, p_sale, p_time, travellers = p_user[keep], p_sale[keep], p_time[keep], travellers[keep]
        bought = np.union1d(bought, key[keep])

        # Sort the visits; drop exact duplicates (same user, sale and second).
        order = np.lexsort((v_sale, v_user, v_time))
        v_user, v_sale, v_time = v_user[order], v_sale[order], v_time[order]
        dup = np.zeros(len(v_user), dtype=bool)
        dup[1:] = (v_user[1:] == v_user[:-1]) & (v_sale[1:] == v_sale[:-1]) & (v_time[1:] == v_time[:-1])
        if dup.any():
            v_user, v_sale, v_time = v_user[~dup], v_sale[~dup], v_time[~dup]

        yield DayEvents(
            day=day,
            visit_user=v_user + 1,
            visit_sale=v_sale + 1,
            visit_time=v_time,
            purchase_user=p_user + 1,
            purchase_sale=p_sale + 1,
            purchase_time=p_time,
            purchase_amount=sales.price_eur[p_sale] * travellers,
            purchase_travellers=travellers,
        )
