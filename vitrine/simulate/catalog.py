"""What the simulated retailer sells: the hidden archetypes of a travel sale and everything tied to them.

One :class:`Archetype` per kind of trip (beach, ski, city break...) holds its real destinations, its price
distribution, its seasonal curve, the vocabulary its titles and descriptions are written with, and the scene
classes of its photos. The module also holds the generic marketing words mixed into every description, the
customers' home countries, and :func:`seasonal_matrix`, the archetype x day seasonal factors that both the
supply of sales and the customers' interest follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np


@dataclass(frozen=True)
class Destination:
    city: str
    country: str  # ISO 3166 alpha-2
    latitude: float
    longitude: float
    region: str = ""  # cruise itinerary, or a region name used in descriptions


@dataclass(frozen=True)
class Archetype:
    name: str
    supply_weight: float  # share of the catalogue before seasonality
    popularity: float  # weight of the archetype as a customer's main preference
    price_median_eur: float  # lognormal price per person
    price_sigma: float
    monthly_season: tuple[float, ...]  # 12 factors, January first (normalised to mean 1 by seasonal_matrix)
    nights: tuple[int, int]  # inclusive range
    destinations: tuple[Destination, ...]
    vocabulary: tuple[str, ...]
    property_kinds: tuple[str, ...]  # "Hotel", "Chalet"... (the ship word for cruises)
    hero_classes: tuple[tuple[str, float], ...]  # scene class of photo 1, with weights
    other_classes: tuple[str, ...]  # scene classes of photos 2..n


D = Destination

ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        name="beach",
        supply_weight=0.22,
        popularity=0.24,
        price_median_eur=780.0,
        price_sigma=0.45,
        monthly_season=(0.35, 0.4, 0.6, 0.9, 1.25, 1.75, 2.1, 2.0, 1.35, 0.8, 0.4, 0.45),
        nights=(4, 7),
        destinations=(
            D("Nice", "FR", 43.7102, 7.2620, "the French Riviera"),
            D("Marbella", "ES", 36.5101, -4.8825, "the Costa del Sol"),
            D("Palma de Mallorca", "ES", 39.5696, 2.6502, "the Balearic Islands"),
            D("Santorini", "GR", 36.4167, 25.4333, "the Cyclades"),
            D("Mykonos", "GR", 37.4467, 25.3289, "the Cyclades"),
            D("Dubrovnik", "HR", 42.6507, 18.0944, "the Dalmatian coast"),
            D("Albufeira", "PT", 37.0891, -8.2479, "the Algarve"),
            D("Porto Cervo", "IT", 41.1359, 9.5341, "Sardinia"),
            D("Hammamet", "TN", 36.4000, 10.6167, "the Gulf of Hammamet"),
            D("Agadir", "MA", 30.4278, -9.5981, "the Atlantic coast"),
            D("Punta Cana", "DO", 18.5601, -68.3725, "the Caribbean"),
            D("Malé", "MV", 4.1755, 73.5093, "the Maldives"),
        ),
        vocabulary=(
            "beachfront", "sea view", "infinity pool", "sandy beach", "palm trees", "snorkelling",
            "sun loungers", "turquoise water", "beach bar", "sunset terrace", "water sports", "seaside",
        ),
        property_kinds=("Hotel", "Resort", "Beach Resort", "Villas"),
        hero_classes=(("sea", 1.0),),
        other_classes=("bedroom", "bathroom", "dining_room"),
    ),
    Archetype(
        name="ski",
        supply_weight=0.13,
        popularity=0.14,
        price_median_eur=1050.0,
        price_sigma=0.4,
        monthly_season=(1.9, 2.0, 1.6, 0.6, 0.15, 0.08, 0.08, 0.08, 0.12, 0.4, 0.9, 1.8),
        nights=(5, 7),
        destinations=(
            D("Chamonix", "FR", 45.9237, 6.8694, "Mont Blanc"),
            D("Zermatt", "CH", 46.0207, 7.7491, "the Valais"),
            D("St Anton am Arlberg", "AT", 47.1296, 10.2681, "the Arlberg"),
            D("Val Thorens", "FR", 45.2979, 6.5800, "the Three Valleys"),
            D("Cortina d'Ampezzo", "IT", 46.5405, 12.1357, "the Dolomites"),
            D("Courchevel", "FR", 45.4154, 6.6347, "the Three Valleys"),
            D("Verbier", "CH", 46.0961, 7.2286, "the Four Valleys"),
            D("Kitzbühel", "AT", 47.4464, 12.3925, "Tyrol"),
            D("Val d'Isère", "FR", 45.4481, 6.9800, "Espace Killy"),
            D("Madonna di Campiglio", "IT", 46.2296, 10.8268, "the Brenta Dolomites"),
        ),
        vocabulary=(
            "ski-in ski-out", "chalet", "slopes", "fondue", "ski pass", "après-ski", "fireplace",
            "powder snow", "ski lift", "snow-capped peaks", "ski school", "ski room",
        ),
        property_kinds=("Chalet", "Hotel", "Lodge", "Residence"),
        hero_classes=(("glacier", 0.45), ("mountain", 0.55)),
        other_classes=("bedroom", "living_room"),
    ),
    Archetype(
        name="city_break",
        supply_weight=0.2,
        popularity=0.2,
        price_median_eur=330.0,
        price_sigma=0.4,
        monthly_season=(0.8, 0.85, 1.0, 1.1, 1.05, 0.95, 0.85, 0.8, 1.0, 1.05, 0.95, 1.6),
        nights=(2, 4),
        destinations=(
            D("Paris", "FR", 48.8566, 2.3522, "the Marais"),
            D("Rome", "IT", 41.9028, 12.4964, "the historic centre"),
            D("Barcelona", "ES", 41.3874, 2.1686, "the Gothic Quarter"),
            D("Lisbon", "PT", 38.7223, -9.1393, "Alfama"),
            D("Prague", "CZ", 50.0755, 14.4378, "the Old Town"),
            D("Vienna", "AT", 48.2082, 16.3738, "the Innere Stadt"),
            D("Amsterdam", "NL", 52.3676, 4.9041, "the canal ring"),
            D("Berlin", "DE", 52.5200, 13.4050, "Mitte"),
            D("London", "GB", 51.5072, -0.1276, "the West End"),
            D("Budapest", "HU", 47.4979, 19.0402, "the Danube banks"),
            D("Copenhagen", "DK", 55.6761, 12.5683, "Nyhavn"),
            D("Strasbourg", "FR", 48.5734, 7.7521, "the Grande Île"),
            D("New York", "US", 40.7128, -74.0060, "Manhattan"),
        ),
        vocabulary=(
            "city centre", "museum", "rooftop bar", "shopping", "old town", "walking tour", "metro",
            "design hotel", "nightlife", "art gallery", "Christmas market", "opera",
        ),
        property_kinds=("Hotel", "Boutique Hotel", "Design Hotel", "Apartments"),
        hero_classes=(("buildings", 0.55), ("street", 0.45)),
        other_classes=("bedroom", "entrance_hall"),
    ),
    Archetype(
        name="countryside",
        supply_weight=0.12,
        popularity=0.12,
        price_median_eur=430.0,
        price_sigma=0.4,
        monthly_season=(0.6, 0.65, 0.9, 1.2, 1.35, 1.3, 1.2, 1.15, 1.25, 1.1, 0.7, 0.6),
        nights=(2, 5),
        destinations=(
            D("Gordes", "FR", 43.9116, 5.2003, "Provence"),
            D("Siena", "IT", 43.3188, 11.3308, "Tuscany"),
            D("Sintra", "PT", 38.8029, -9.3817, "the Lisbon hills"),
            D("Sarlat-la-Canéda", "FR", 44.8897, 1.2165, "the Dordogne"),
            D("Bibury", "GB", 51.7597, -1.8331, "the Cotswolds"),
            D("Colmar", "FR", 48.0794, 7.3585, "Alsace"),
            D("Ronda", "ES", 36.7423, -5.1671, "Andalusia"),
            D("Triberg", "DE", 48.1306, 8.2323, "the Black Forest"),
            D("Killarney", "IE", 52.0599, -9.5044, "County Kerry"),
        ),
        vocabulary=(
            "vineyard", "farmhouse", "countryside", "hiking trails", "olive grove", "wine tasting",
            "farm-to-table", "village", "lavender fields", "horse riding", "cycling", "stone cottage",
        ),
        property_kinds=("Domaine", "Country House", "Manor", "Agriturismo"),
        hero_classes=(("forest", 0.6), ("mountain", 0.4)),
        other_classes=("dining_room", "kitchen"),
    ),
    Archetype(
        name="spa_hotel",
        supply_weight=0.12,
        popularity=0.11,
        price_median_eur=520.0,
        price_sigma=0.4,
        monthly_season=(1.2, 1.2, 1.1, 1.0, 0.9, 0.8, 0.75, 0.75, 0.9, 1.1, 1.2, 1.1),
        nights=(2, 4),
        destinations=(
            D("Baden-Baden", "DE", 48.7606, 8.2398, "the Black Forest"),
            D("Évian-les-Bains", "FR", 46.4009, 6.5897, "Lake Geneva"),
            D("Karlovy Vary", "CZ", 50.2319, 12.8720, "West Bohemia"),
            D("Abano Terme", "IT", 45.3603, 11.7897, "the Euganean Hills"),
            D("Hévíz", "HU", 46.7903, 17.1844, "Lake Balaton"),
            D("Bath", "GB", 51.3811, -2.3590, "Somerset"),
            D("Montecatini Terme", "IT", 43.8826, 10.7712, "Tuscany"),
            D("Vichy", "FR", 46.1277, 3.4260, "the Auvergne"),
            D("Merano", "IT", 46.6713, 11.1594, "South Tyrol"),
        ),
        vocabulary=(
            "spa", "hammam", "massage", "thermal baths", "wellness", "jacuzzi", "sauna", "detox",
            "yoga", "treatments", "relaxation", "heated pool",
        ),
        property_kinds=("Spa Resort", "Thermal Hotel", "Wellness Hotel", "Hotel & Spa"),
        hero_classes=(("bathroom", 0.6), ("living_room", 0.4)),
        other_classes=("bedroom", "entrance_hall", "bathroom"),
    ),
    Archetype(
        name="cruise",
        supply_weight=0.08,
        popularity=0.08,
        price_median_eur=1500.0,
        price_sigma=0.4,
        monthly_season=(0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.1, 0.9, 0.8, 0.8),
        nights=(4, 10),
        destinations=(
            D("Venice", "IT", 45.4408, 12.3155, "the Adriatic"),
            D("Barcelona", "ES", 41.3874, 2.1686, "the Western Mediterranean"),
            D("Marseille", "FR", 43.2965, 5.3698, "the Western Mediterranean"),
            D("Bergen", "NO", 60.3913, 5.3221, "the Norwegian fjords"),
            D("Piraeus", "GR", 37.9420, 23.6465, "the Greek islands"),
            D("Genoa", "IT", 44.4056, 8.9463, "the Tyrrhenian Sea"),
            D("Copenhagen", "DK", 55.6761, 12.5683, "the Baltic capitals"),
            D("Miami", "US", 25.7617, -80.1918, "the Caribbean"),
        ),
        vocabulary=(
            "cruise", "cabin", "balcony cabin", "deck", "port of call", "shore excursions", "ocean liner",
            "captain's dinner", "full board", "on-board entertainment", "sea days", "embarkation",
        ),
        property_kinds=("Aurora", "Serenissima", "Nordic Star", "Mistral", "Ocean Pearl", "Costa Azzurra"),
        hero_classes=(("sea", 1.0),),
        other_classes=("bedroom", "dining_room", "bathroom"),
    ),
    Archetype(
        name="lakes_mountains",
        supply_weight=0.13,
        popularity=0.11,
        price_median_eur=620.0,
        price_sigma=0.4,
        monthly_season=(0.45, 0.45, 0.6, 0.85, 1.2, 1.7, 1.9, 1.85, 1.3, 0.8, 0.45, 0.45),
        nights=(3, 6),
        destinations=(
            D("Annecy", "FR", 45.8992, 6.1294, "Lake Annecy"),
            D("Bellagio", "IT", 45.9857, 9.2613, "Lake Como"),
            D("Hallstatt", "AT", 47.5622, 13.6493, "the Salzkammergut"),
            D("Interlaken", "CH", 46.6863, 7.8632, "the Bernese Oberland"),
            D("Bled", "SI", 46.3683, 14.1146, "Lake Bled"),
            D("Zell am See", "AT", 47.3236, 12.7969, "the Hohe Tauern"),
            D("Riva del Garda", "IT", 45.8850, 10.8417, "Lake Garda"),
            D("Lucerne", "CH", 47.0502, 8.3093, "Lake Lucerne"),
        ),
        vocabulary=(
            "lake view", "hiking", "alpine meadows", "boat trip", "mountain lodge", "lakeside",
            "paddle boarding", "cable car", "fresh air", "panoramic terrace", "waterfalls", "alpine",
        ),
        property_kinds=("Hotel", "Lodge", "Lakeside Hotel", "Alpine Hotel"),
        hero_classes=(("mountain", 0.6), ("forest", 0.4)),
        other_classes=("bedroom", "dining_room", "living_room"),
    ),
)

ARCHETYPE_NAMES: tuple[str, ...] = tuple(a.name for a in ARCHETYPES)
ARCHETYPE_INDEX: dict[str, int] = {a.name: i for i, a in enumerate(ARCHETYPES)}

# Marketing words every sale may carry, whatever its archetype: the noise around the archetype signal.
GENERIC_VOCABULARY: tuple[str, ...] = (
    "luxury", "breakfast included", "suite", "free cancellation", "family friendly", "romantic getaway",
    "exclusive offer", "boutique hotel", "gourmet restaurant", "free wifi", "airport transfer", "half board",
    "private terrace", "concierge", "best price guaranteed", "late checkout", "welcome drink",
    "fitness centre",
)

# Property names, shared by all archetypes ("Hotel Belvedere 5* - Zermatt").
PROPERTY_NAMES: tuple[str, ...] = (
    "Belvedere", "Bellevue", "Le Grand", "Royal", "Majestic", "Splendid", "Panorama", "Les Jardins", "Aurora",
    "Palazzo Doria", "Miramar", "Excelsior", "Beau Rivage", "Alpina", "Bristol", "La Réserve", "Villa Flora",
    "Continental", "Edelweiss", "Metropole", "Il Borgo", "Santa Maria", "Les Terrasses", "Regina",
)

COUNTRY_NAMES: dict[str, str] = {
    "AT": "Austria", "BE": "Belgium", "BR": "Brazil", "CH": "Switzerland", "CZ": "Czechia", "DE": "Germany",
    "DK": "Denmark", "DO": "the Dominican Republic", "ES": "Spain", "FR": "France",
    "GB": "the United Kingdom",
    "GR": "Greece", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IT": "Italy", "MA": "Morocco",
    "MV": "the Maldives", "NL": "the Netherlands", "NO": "Norway", "PT": "Portugal", "SI": "Slovenia",
    "TN": "Tunisia", "US": "the United States",
}

# Customers' home countries and their weights (a French retailer with a European audience).
HOME_COUNTRIES: tuple[tuple[str, float], ...] = (
    ("FR", 0.38), ("DE", 0.12), ("GB", 0.10), ("IT", 0.09), ("ES", 0.08),
    ("BE", 0.07), ("NL", 0.05), ("CH", 0.05), ("US", 0.04), ("BR", 0.02),
)

# Destination countries, sorted: the index space of sales' and users' favourite countries.
DESTINATION_COUNTRIES: tuple[str, ...] = tuple(
    sorted({d.country for a in ARCHETYPES for d in a.destinations})
)

# The scene classes of the photo folder, one sub-folder each.
SCENE_CLASSES: tuple[str, ...] = (
    "bathroom", "bedroom", "buildings", "dining_room", "entrance_hall", "forest",
    "glacier", "kitchen", "living_room", "mountain", "sea", "street",
)

# Visits by day of week (Monday first) and by month (booking peak in January, summer lull).
WEEKDAY_ACTIVITY: tuple[float, ...] = (1.1, 1.0, 1.0, 0.95, 0.85, 0.9, 1.2)
MONTHLY_ACTIVITY: tuple[float, ...] = (1.15, 1.05, 1.0, 0.95, 0.95, 0.95, 0.9, 0.85, 0.95, 1.0, 1.05, 1.0)

# Share of visits by hour of the day (UTC): quiet nights, a lunch bump, an evening peak.
HOURLY_ACTIVITY: tuple[float, ...] = (
    0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.6, 2.2, 2.6, 2.8, 3.0,
    4.0, 4.2, 3.4, 3.2, 3.4, 3.8, 5.0, 6.6, 7.8, 7.6, 5.6, 2.2,
)


def _annual_curve(monthly: tuple[float, ...], days: list[date]) -> np.ndarray:
    """Smooth periodic curve through 12 monthly values (placed mid-month), with an annual mean of 1."""
    values = np.asarray(monthly, dtype=np.float64)
    values = values / values.mean()
    mid = (np.arange(12) + 0.5) * (365.25 / 12)
    xp = np.concatenate([mid - 365.25, mid, mid + 365.25])
    fp = np.concatenate([values, values, values])
    doy = np.array([d.timetuple().tm_yday - 1 for d in days], dtype=np.float64)
    return np.interp(doy, xp, fp)


def calendar(start: date, n_days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n_days)]


def seasonal_matrix(days: list[date]) -> np.ndarray:
    """(archetype, day) seasonal factors: each archetype's curve has an annual mean of 1."""
    return np.stack([_annual_curve(a.monthly_season, days) for a in ARCHETYPES])


def activity_factor(days: list[date]) -> np.ndarray:
    """Overall visit intensity per day: weekday x month of the year."""
    weekday = np.array([WEEKDAY_ACTIVITY[d.weekday()] for d in days])
    return weekday * _annual_curve(MONTHLY_ACTIVITY, days)
