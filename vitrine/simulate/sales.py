"""The catalogue of flash sales: when each opens and closes, where it goes, its price, its words.

:func:`draw_sales` opens ``sales_per_day`` sales on every day of the window plus the first scoring day, with
an archetype drawn by supply weight x seasonality, a real destination of that archetype, a lognormal price, a
hidden attractiveness, and a title and description written from the archetype's vocabulary mixed with generic
marketing words (and, now and then, a word borrowed from another archetype) so that text carries the archetype
with noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitrine.simulate.catalog import (
    ARCHETYPE_INDEX,
    ARCHETYPES,
    COUNTRY_NAMES,
    DESTINATION_COUNTRIES,
    GENERIC_VOCABULARY,
    PROPERTY_NAMES,
)

MIN_DURATION_DAYS, MAX_DURATION_DAYS = 3, 10
ATTRACTIVENESS_SIGMA = 0.7
STARS = np.array([3, 4, 5])
STAR_WEIGHTS = np.array([0.2, 0.5, 0.3])
STAR_PRICE_FACTOR = {3: 0.8, 4: 1.0, 5: 1.3}
COORDINATE_JITTER_DEG = 0.02  # the property is within a couple of km of the town centre
BORROWED_WORD_PROBABILITY = 0.25  # a word from another archetype's vocabulary (noise for text models)


@dataclass(frozen=True)
class Sales:
    archetype: np.ndarray  # int64 index into ARCHETYPES
    open_day: np.ndarray  # int64 days from the window's start
    close_day: np.ndarray  # int64, inclusive
    price_eur: np.ndarray  # float64 per person
    attractiveness: np.ndarray  # float64, mean 1
    country: np.ndarray  # int64 index into DESTINATION_COUNTRIES
    city: list[str]
    latitude: np.ndarray
    longitude: np.ndarray
    stars: np.ndarray  # int64 (0 for cruises)
    nights: np.ndarray  # int64
    title: list[str]
    description: list[str]

    @property
    def size(self) -> int:
        return int(self.archetype.shape[0])

    @property
    def sale_id(self) -> np.ndarray:
        return np.arange(1, self.size + 1, dtype=np.int64)


def _nice_price(raw: np.ndarray) -> np.ndarray:
    """Retail prices: 49, 329, 1 249... (tens minus one euro)."""
    return np.maximum(np.round(raw / 10.0) * 10.0 - 1.0, 49.0)


def _pick(items: tuple[str, ...], u: float) -> str:
    return items[min(int(u * len(items)), len(items) - 1)]


def _join(phrases: list[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _write_text(
    archetype: int, city: str, country: str, region: str, stars: int, nights: int, u: np.ndarray,
    vocab_order: np.ndarray, generic_order: np.ndarray,
) -> tuple[str, str]:
    """Title and description of one sale from its uniform draws ``u`` and two random permutations."""
    arch = ARCHETYPES[archetype]
    name = _pick(PROPERTY_NAMES, u[0])
    kind = _pick(arch.property_kinds, u[1])
    vocab = arch.vocabulary
    own = [vocab[i] for i in vocab_order[vocab_order < len(vocab)][: 3 + int(u[2] * 3)]]
    generic_order = generic_order[generic_order < len(GENERIC_VOCABULARY)]
    generic = [GENERIC_VOCABULARY[i] for i in generic_order[: 2 + int(u[3] * 3)]]
    if u[4] < BORROWED_WORD_PROBABILITY:
        other = ARCHETYPES[(archetype + 1 + int(u[5] * (len(ARCHETYPES) - 1))) % len(ARCHETYPES)]
        own.append(_pick(other.vocabulary, u[6]))
    country_name = COUNTRY_NAMES[country]
    if arch.name == "cruise":
        title = f"{kind} - {nights}-night cruise from {city}"
        opening = (
            f"Sail {region} for {nights} nights aboard the {kind}, departing from {city}, {country_name}."
        )
    else:
        title = f"{kind} {name} {stars}* - {city}"
        opening = f"{nights} nights at the {stars}-star {kind} {name} in {city}, {region}, {country_name}."
    half = (len(own) + 1) // 2
    sentences = [
        f"Enjoy {_join(own[:half])}.",
        f"{_join(generic).capitalize()}.",
    ]
    if own[half:]:
        sentences.append(f"Also: {_join(own[half:])}.")
    if u[7] < 0.5:
        sentences = [sentences[1], sentences[0], *sentences[2:]]
    return title, " ".join([opening, *sentences])


def draw_sales(
    rng: np.random.Generator, season: np.ndarray, n_open_days: int, sales_per_day: int
) -> Sales:
    """Open ``sales_per_day`` sales on each of ``n_open_days`` days (``season``: archetype x day)."""
    n_arch = len(ARCHETYPES)
    n = n_open_days * sales_per_day
    open_day = np.repeat(np.arange(n_open_days, dtype=np.int64), sales_per_day)

    weights = np.array([a.supply_weight for a in ARCHETYPES])[:, None] * season[:, :n_open_days]
    cdf = np.cumsum(weights / weights.sum(axis=0, keepdims=True), axis=0)  # (archetype, day)
    u = rng.random(n)
    archetype = np.minimum((cdf[:, open_day] < u[None, :]).sum(axis=0), n_arch - 1).astype(np.int64)

    duration = rng.integers(MIN_DURATION_DAYS, MAX_DURATION_DAYS + 1, n)
    close_day = open_day + duration - 1
    attractiveness = np.exp(ATTRACTIVENESS_SIGMA * rng.standard_normal(n) - ATTRACTIVENESS_SIGMA**2 / 2)
    stars = STARS[np.searchsorted(np.cumsum(STAR_WEIGHTS), rng.random(n), side="right").clip(0, 2)]

    median = np.array([a.price_median_eur for a in ARCHETYPES])[archetype]
    sigma = np.array([a.price_sigma for a in ARCHETYPES])[archetype]
    star_factor = np.array([STAR_PRICE_FACTOR[int(s)] for s in STARS])[stars - 3]
    is_cruise = archetype == ARCHETYPE_INDEX["cruise"]
    star_factor = np.where(is_cruise, 1.0, star_factor)
    stars = np.where(is_cruise, 0, stars)
    price = _nice_price(median * star_factor * np.exp(sigma * rng.standard_normal(n)))

    draws = rng.random((n, 10))
    jitter = rng.uniform(-COORDINATE_JITTER_DEG, COORDINATE_JITTER_DEG, (n, 2))
    longest = max(len(a.vocabulary) for a in ARCHETYPES)
    vocab_orders = np.argsort(rng.random((n, longest)), axis=1)
    generic_orders = np.argsort(rng.random((n, len(GENERIC_VOCABULARY))), axis=1)
    country_index = {c: i for i, c in enumerate(DESTINATION_COUNTRIES)}

    city: list[str] = []
    country = np.empty(n, dtype=np.int64)
    lat = np.empty(n)
    lon = np.empty(n)
    nights = np.empty(n, dtype=np.int64)
    titles: list[str] = []
    descriptions: list[str] = []
    for i in range(n):
        arch = ARCHETYPES[archetype[i]]
        dest = arch.destinations[min(int(draws[i, 8] * len(arch.destinations)), len(arch.destinations) - 1)]
        lo, hi = arch.nights
        nights[i] = lo + min(int(draws[i, 9] * (hi - lo + 1)), hi - lo)
        city.append(dest.city)
        country[i] = country_index[dest.country]
        cruise = arch.name == "cruise"
        lat[i] = dest.latitude + (0.0 if cruise else jitter[i, 0])
        lon[i] = dest.longitude + (0.0 if cruise else jitter[i, 1])
        title, text = _write_text(
            int(archetype[i]), dest.city, dest.country, dest.region, int(stars[i]), int(nights[i]),
            draws[i], vocab_orders[i], generic_orders[i],
        )
        titles.append(title)
        descriptions.append(text)

    return Sales(
        archetype=archetype,
        open_day=open_day,
        close_day=close_day,
        price_eur=price,
        attractiveness=attractiveness,
        country=country,
        city=city,
        latitude=np.round(lat, 5),
        longitude=np.round(lon, 5),
        stars=stars.astype(np.int64),
        nights=nights,
        title=titles,
        description=descriptions,
    )

