"""Where customers and merchants are: cities, time zones, nearby points, journeys.

The cities of the scenario library (:data:`riskstream.simulation.scenarios.CITIES`) plus more
Chinese cities, each with a fixed UTC offset (daylight saving is ignored: November
offsets) and a share of the customers, mostly in China for a CNY wallet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from riskstream.agents.cep.expressions import distance_km
from riskstream.simulation.scenarios import CITIES

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class City:
    name: str
    lat: float
    lon: float
    country: str
    utc_offset: int  # hours
    weight: float  # share of the population, relative


_OFFSETS = {"CN": 8, "HK": 8, "SG": 8, "DE": 1, "GB": 0, "NG": 1, "BR": -3, "US": -5}
_WEIGHTS = {
    "Shanghai": 14.0, "Beijing": 13.0, "Shenzhen": 10.0, "Chengdu": 8.0, "Singapore": 2.0,
    "Frankfurt": 0.6, "London": 0.8, "Lagos": 0.3, "Sao Paulo": 0.3, "New York": 0.8,
}  # fmt: skip
_MORE: tuple[tuple[str, float, float, str, float], ...] = (
    ("Guangzhou", 23.1291, 113.2644, "CN", 10.0),
    ("Hangzhou", 30.2741, 120.1551, "CN", 7.0),
    ("Wuhan", 30.5928, 114.3055, "CN", 6.0),
    ("Chongqing", 29.5630, 106.5516, "CN", 6.0),
    ("Xi'an", 34.3416, 108.9398, "CN", 5.0),
    ("Nanjing", 32.0603, 118.7969, "CN", 5.0),
    ("Hong Kong", 22.3193, 114.1694, "HK", 3.0),
)

CITY_TABLE: tuple[City, ...] = tuple(
    City(name, lat, lon, country, _OFFSETS[country], _WEIGHTS[name])
    for name, lat, lon, country in CITIES
) + tuple(
    City(name, lat, lon, country, _OFFSETS[country], w) for name, lat, lon, country, w in _MORE
)

# Speeds of honest journeys: airliners cruise below the 900 km/h the travel rule allows,
# and a door-to-door trip adds airport time on top.
FLIGHT_KMH = 750.0
TRAIN_KMH = 250.0


def pick_city(rng: random.Random, cities: tuple[City, ...] = CITY_TABLE) -> City:
    return rng.choices(cities, weights=[city.weight for city in cities])[0]


def near(rng: random.Random, lat: float, lon: float, spread_deg: float) -> tuple[float, float]:
    """A point around (lat, lon): a normal spread of ``spread_deg`` (0.01 deg ~ 1 km)."""
    return (
        round(min(89.9, max(-89.9, rng.gauss(lat, spread_deg))), 5),
        round(((rng.gauss(lon, spread_deg) + 180.0) % 360.0) - 180.0, 5),
    )


def geo(lat: float, lon: float, city: City) -> dict[str, float | str]:
    """The contract's ``geo`` object."""
    return {"lat": lat, "lon": lon, "country": city.country}


def journey_ms(origin: City, destination: City) -> int:
    """Door-to-door time of an honest trip: a flight beyond 500 km, else a train."""
    km = distance_km(origin.lat, origin.lon, destination.lat, destination.lon)
    hours = km / FLIGHT_KMH + 2.5 if km > 500.0 else km / TRAIN_KMH + 0.5
    return int(hours * HOUR_MS)


def local_hour(epoch_ms: int, utc_offset: int) -> int:
    """The hour of the day (0-23) at ``utc_offset`` of an epoch-milliseconds instant."""
    return (epoch_ms // HOUR_MS + utc_offset) % 24
