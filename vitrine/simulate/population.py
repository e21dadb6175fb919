"""The customers: who signs up when, and their hidden tastes, budget and activity.

:func:`draw_population` returns column arrays (one row per user, user_id = row + 1, ids in sign-up order so
that the users active on a day are a prefix of the arrays). The hidden variables (preferences over archetypes,
budget per person, activity, favourite destination country) drive the behaviour model and go to
``truth/users.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitrine.simulate.catalog import ARCHETYPES, DESTINATION_COUNTRIES, HOME_COUNTRIES

# Sign-ups: most customers joined during the three years before the window, the rest during it.
SIGNUP_HISTORY_DAYS = 3 * 365
SHARE_SIGNED_UP_DURING_WINDOW = 0.12
# Preferences: a Dirichlet concentrated on a main archetype and, for some users, a second one.
PREF_ALPHA_BASE = 0.15
PREF_ALPHA_MAIN = 3.0
PREF_ALPHA_SECOND = 1.2
SHARE_WITH_SECOND_TASTE = 0.6
# Budget per person in EUR (lognormal): about 300-2000 for 90 % of users.
BUDGET_MEDIAN_EUR = 800.0
BUDGET_SIGMA = 0.55
BUDGET_MIN_EUR, BUDGET_MAX_EUR = 150.0, 6000.0
# Activity (lognormal, mean 1): the top 10 % of users make about half of the visits.
ACTIVITY_SIGMA = 1.2
# Favourite destination country: the home country for some of those whose home is a destination.
SHARE_FAVOURITE_IS_HOME = 0.35


@dataclass(frozen=True)
class Population:
    signup_day: np.ndarray  # int64, days relative to the window's start (negative: before), non-decreasing
    home_country: np.ndarray  # int64 index into HOME_COUNTRIES
    preference: np.ndarray  # float64 (users, archetypes), rows sum to 1
    budget_eur: np.ndarray  # float64 per person
    activity: np.ndarray  # float64, mean 1: relative visit intensity
    favourite_country: np.ndarray  # int64 index into DESTINATION_COUNTRIES

    @property
    def size(self) -> int:
        return int(self.signup_day.shape[0])

    @property
    def user_id(self) -> np.ndarray:
        return np.arange(1, self.size + 1, dtype=np.int64)


def _categorical(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    cdf = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(weights) - 1).astype(np.int64)


def draw_population(rng: np.random.Generator, n_users: int, days: int) -> Population:
    """Draw ``n_users`` customers for a window of ``days`` days (vectorised)."""
    n_arch = len(ARCHETYPES)

    # Sign-up days: denser recently before the window, uniform during it; sorted so ids follow sign-up order.
    during = rng.random(n_users) < SHARE_SIGNED_UP_DURING_WINDOW
    before = -1 - np.floor(SIGNUP_HISTORY_DAYS * rng.random(n_users) ** 1.5).astype(np.int64)
    inside = rng.integers(0, days, n_users)
    signup_day = np.sort(np.where(during, inside, before))

    home = _categorical(rng, np.array([w for _, w in HOME_COUNTRIES]), n_users)

    popularity = np.array([a.popularity for a in ARCHETYPES])
    main = _categorical(rng, popularity, n_users)
    # Second taste: another archetype (shifting the main one by 1..n-1 keeps it distinct).
    second = (main + rng.integers(1, n_arch, n_users)) % n_arch
    has_second = rng.random(n_users) < SHARE_WITH_SECOND_TASTE
    alpha = np.full((n_users, n_arch), PREF_ALPHA_BASE)
    rows = np.arange(n_users)
    alpha[rows, main] += PREF_ALPHA_MAIN
    alpha[rows[has_second], second[has_second]] += PREF_ALPHA_SECOND
    gammas = rng.standard_gamma(alpha)
    preference = gammas / gammas.sum(axis=1, keepdims=True)
    del alpha, gammas

    budget = BUDGET_MEDIAN_EUR * np.exp(BUDGET_SIGMA * rng.standard_normal(n_users))
    budget = np.round(np.clip(budget, BUDGET_MIN_EUR, BUDGET_MAX_EUR), -1)

    activity = np.exp(ACTIVITY_SIGMA * rng.standard_normal(n_users) - ACTIVITY_SIGMA**2 / 2)

    # Favourite destination country: the home country (when it is a destination) or a country weighted by how
    # many destinations it has.
    dest_index = {c: i for i, c in enumerate(DESTINATION_COUNTRIES)}
    home_as_dest = np.array([dest_index.get(c, -1) for c, _ in HOME_COUNTRIES], dtype=np.int64)[home]
    n_destinations = np.zeros(len(DESTINATION_COUNTRIES))
    for a in ARCHETYPES:
        for d in a.destinations:
            n_destinations[dest_index[d.country]] += 1
    drawn = _categorical(rng, n_destinations, n_users)
    use_home = (rng.random(n_users) < SHARE_FAVOURITE_IS_HOME) & (home_as_dest >= 0)
    favourite = np.where(use_home, home_as_dest, drawn)

    return Population(
        signup_day=signup_day,
        home_country=home,
        preference=preference,
        budget_eur=budget,
        activity=activity,
        favourite_country=favourite,
    )
