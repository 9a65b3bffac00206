"""The simulated world: the day/night rhythm, households, journeys, ids."""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from itertools import combinations, pairwise

import pytest

from riskstream.agents.cep.expressions import distance_km
from riskstream.simulation.config import DEFAULT_START, SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.simulation.geography import CITY_TABLE, HOUR_MS, journey_ms, local_hour
from riskstream.simulation.ids import BROADBAND, IdMint
from riskstream.simulation.population import build_population
from riskstream.simulation.rhythm import DAY_MS, HOURLY, session_times
from riskstream.streams.card_numbers import mask_text
from riskstream.streams.events import to_epoch_ms

NIGHT = range(2, 6)  # 02:00-05:59 local
DAY = range(10, 22)


def test_sessions_follow_the_local_day_and_the_asked_rate() -> None:
    rng = random.Random(1)
    start = to_epoch_ms(DEFAULT_START)
    times = [t for _ in range(2000) for t in session_times(rng, 5.0, start, start + DAY_MS, 8)]
    assert 2000 * 5 * 0.97 < len(times) < 2000 * 5 * 1.03
    by_hour = Counter(local_hour(t, 8) for t in times)
    for hour in range(24):  # Poisson counts: within 4 standard deviations of the curve
        expected = len(times) * HOURLY[hour] / sum(HOURLY)
        assert abs(by_hour[hour] - expected) < 4 * math.sqrt(expected) + 2, hour
    assert session_times(rng, 0.0, start, start + DAY_MS, 8) == []
    assert session_times(rng, 3.0, start, start, 8) == []


def test_night_is_quiet_in_the_generated_traffic() -> None:
    """Ordinary traffic, bucketed by each customer's own local hour."""
    config = SimulationConfig(seed=5, customers=1500, days=1.0, fraud_per_pattern=0)
    population = build_population(config)
    offset = {c.account_id: c.city.utc_offset for c in population.customers}
    by_hour: Counter[int] = Counter()
    for event in generate(config).events:
        ms = to_epoch_ms(event.occurred_at)
        by_hour[local_hour(ms, offset[str(event.payload["account_id"])])] += 1
    night = sum(by_hour[h] for h in NIGHT) / len(NIGHT)
    day = sum(by_hour[h] for h in DAY) / len(DAY)
    assert night < 0.12 * day, (night, day)
    assert by_hour[20] > by_hour[15] and by_hour[12] > by_hour[10]  # evening and lunch peaks


def test_households_share_a_line_and_at_most_a_tablet() -> None:
    population = build_population(SimulationConfig(seed=2, customers=600))
    members: dict[str, list[str]] = defaultdict(list)
    tablets: dict[str, set[str]] = defaultdict(set)
    for customer in population.customers:
        members[customer.home_ip].append(customer.account_id)
        if customer.family_device:
            tablets[customer.family_device].add(customer.home_ip)
        assert customer.phone != customer.family_device
        assert customer.account_id not in customer.friends and len(customer.friends) >= 1
    sizes = Counter(len(accounts) for accounts in members.values())
    assert set(sizes) <= {1, 2, 3, 4} and sizes[1] > sizes[2] > sizes[3]
    assert all(len(lines) == 1 for lines in tablets.values())
    assert len(population.merchants) >= 100 and any(m.online for m in population.merchants)
    assert all(m.terminals for m in population.merchants if not m.online)


def test_journeys_are_slower_than_the_travel_rule_allows() -> None:
    for first, second in combinations(CITY_TABLE, 2):
        km = distance_km(first.lat, first.lon, second.lat, second.lon)
        hours = journey_ms(first, second) / HOUR_MS
        assert km / hours < 900.0, (first.name, second.name)


def test_ordinary_customers_never_travel_impossibly() -> None:
    """Trips, new phones and new accounts all happen where the customer is: two located
    events far apart are always a journey's time apart, as the travel rule expects."""
    config = SimulationConfig(seed=4, customers=400, days=10.0, fraud_per_pattern=0)
    places: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for event in generate(config).events:
        where = event.payload.get("geo")
        if where is not None:
            moment = to_epoch_ms(event.occurred_at) / 3_600_000
            places[str(event.payload["account_id"])].append((moment, where["lat"], where["lon"]))
    far_trips = 0
    for account, seen in places.items():
        for (t1, lat1, lon1), (t2, lat2, lon2) in pairwise(seen):
            km = distance_km(lat1, lon1, lat2, lon2)
            if km > 500.0:
                far_trips += 1
                assert km < 900.0 * (t2 - t1), account
    assert far_trips >= 10


def test_the_mint_never_repeats_itself() -> None:
    mint = IdMint(random.Random(0))
    ids = [mint.new("account") for _ in range(5000)] + [mint.ip(BROADBAND) for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert IdMint(random.Random(0)).new("device") == IdMint(random.Random(0)).new("device")


def test_options_are_checked_and_the_start_is_one_instant() -> None:
    with pytest.raises(ValueError, match="time zone"):
        SimulationConfig(start=datetime(2026, 11, 2))
    with pytest.raises(ValueError, match="customers"):
        SimulationConfig(customers=3)
    with pytest.raises(ValueError, match="days"):
        SimulationConfig(days=0)
    local = SimulationConfig(start=datetime(2026, 11, 2, 8, tzinfo=timezone(timedelta(hours=8))))
    assert local.start == DEFAULT_START and local.start.utcoffset() == timedelta(0)
    assert local.run_id == SimulationConfig().run_id
    assert SimulationConfig(seed=8).run_id != SimulationConfig().run_id


def test_event_ids_never_read_as_card_numbers() -> None:
    """Ingest masks Luhn-valid runs of 13-19 digits (in groups parted by dashes): an id
    made of a run id of digits and a counter would be masked one time in ten, and the
    backtest could no longer tell which event an alert cites."""
    assert mask_text("tx-157537-00016451") != "tx-157537-00016451"  # the old risk
    for seed in range(200):
        run = SimulationConfig(seed=seed).run_id
        assert re.fullmatch(r"[0-9a-f]{5}[a-f]", run), run
    run = SimulationConfig(seed=3).run_id
    for number in range(1, 3000):
        event_id = f"tx-{run}-{number * 7919:08d}"
        assert mask_text(event_id) == event_id
