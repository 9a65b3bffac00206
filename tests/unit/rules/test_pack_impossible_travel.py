"""impossible_travel: one account in two distant places too quickly."""

from __future__ import annotations

import itertools
from typing import Any

from riskstream.agents.cep.expressions import distance_km
from riskstream.streams.events import AccountEvent, Transaction
from tests.unit.factories import at, txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("impossible_travel")
HOUR = 3600
SHANGHAI = (31.2304, 121.4737)
HANGZHOU = (30.2741, 120.1551)
BEIJING = (39.9042, 116.4074)
FRANKFURT = (50.1109, 8.6821)
SAO_PAULO = (-23.5505, -46.6333)


def geo(place: tuple[float, float]) -> dict[str, Any]:
    return {"lat": place[0], "lon": place[1]}


def login(event_id: str, seconds: float, place: tuple[float, float] | None,
          *, account: str = "acc-1") -> AccountEvent:  # fmt: skip
    return AccountEvent.model_validate(
        {"event_id": event_id, "type": "login", "occurred_at": at(seconds),
         "account_id": account, "device_id": "phone-1",
         **({"geo": geo(place)} if place else {})}
    )  # fmt: skip


def pay(event_id: str, seconds: float, place: tuple[float, float], **extra: Any) -> Transaction:
    return txn(event_id, seconds, "120", counterparty_id="m-1", geo=geo(place), **extra)


def test_the_places_are_as_far_apart_as_the_tests_assume() -> None:
    assert 8_000 < distance_km(*SHANGHAI, *FRANKFURT) < 9_500
    assert 1_000 < distance_km(*SHANGHAI, *BEIJING) < 1_100
    assert distance_km(*SHANGHAI, *HANGZHOU) < 200
    assert 18_000 < distance_km(*SHANGHAI, *SAO_PAULO) < 19_000


def test_login_in_shanghai_then_payment_in_frankfurt_an_hour_later_fires() -> None:
    signals = run(RULE, [login("l", 0, SHANGHAI), pay("p", HOUR, FRANKFURT)])
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", "acc-1")
    assert signal.evidence == ("l", "p")
    assert signal.aggregates == {"here": 1, "there": 1, "span_seconds": 3600.0}


def test_just_faster_than_a_plane_fires() -> None:
    # About 1070 km in one hour: above 900 km/h.
    assert len(run(RULE, [pay("a", 0, SHANGHAI), pay("b", HOUR, BEIJING)])) == 1


def test_the_other_side_of_the_world_in_20_hours_is_too_fast() -> None:
    # About 18,500 km in 20.5 hours: above 900 km/h, however long the gap.
    assert len(run(RULE, [login("l", 0, SHANGHAI), pay("p", 20.5 * HOUR, SAO_PAULO)])) == 1


def test_near_misses() -> None:
    cases = {
        "a flight: Shanghai to Beijing in 2 hours": [
            login("l", 0, SHANGHAI), login("m", 2 * HOUR, BEIJING)],
        "a long-haul flight: Frankfurt in 11 hours": [
            login("l", 0, SHANGHAI), pay("p", 11 * HOUR, FRANKFURT)],
        "geolocation noise under 500 km": [
            pay("a", 0, SHANGHAI), pay("b", 60, HANGZHOU), pay("c", 120, SHANGHAI)],
        "no location": [login("l", 0, None), pay("p", 60, FRANKFURT)],
        "two accounts": [
            login("l", 0, SHANGHAI), pay("p", HOUR, FRANKFURT, account="acc-2")],
        "the other side of the world in 21 hours": [
            login("l", 0, SHANGHAI), pay("p", 21 * HOUR, SAO_PAULO)],
    }  # fmt: skip
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_a_jump_in_a_long_ordinary_day_is_found_once() -> None:
    day = [pay(f"d{i}", i * 600, SHANGHAI) for i in range(6)]
    jump = [login("fra", 3700, FRANKFURT), pay("fra2", 3800, FRANKFURT)]
    signals = run(RULE, [*day, *jump])
    assert len(signals) == 1
    assert signals[0].evidence == ("d0", "fra")


def test_a_login_arriving_after_the_payment_gives_the_same_signal() -> None:
    """Logins and payments come from different topics, in either order."""
    events = [login("l", 0, SHANGHAI), pay("p", 1800, FRANKFURT)]
    expected = run(RULE, events)
    assert len(expected) == 1
    assert [s.signal_id for s in run(RULE, events[::-1])] == [expected[0].signal_id]


def test_with_several_possible_pairs_any_order_gives_exactly_one_signal() -> None:
    # Both l->q and p->q are impossible: which pair is reported depends on which
    # completed first, but there is one signal, ending at the impossible event.
    events = [login("l", 0, SHANGHAI), pay("p", 300, HANGZHOU), pay("q", 1800, FRANKFURT)]
    for order in itertools.permutations(events):
        signals = run(RULE, order)
        assert len(signals) == 1, order
        assert signals[0].evidence[-1] == "q"
        assert signals[0].evidence[0] in {"l", "p"}
