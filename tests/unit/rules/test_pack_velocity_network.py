"""velocity.device and velocity.ip: bursts of transactions from one device or address."""

from __future__ import annotations

import random
from typing import Any

from riskstream.streams.events import Transaction
from tests.unit.factories import txn
from tests.unit.rules.harness import fired, pack_rule, run

DEVICE = pack_rule("velocity.device")
IP = pack_rule("velocity.ip")


def device_burst(count: int, spacing: float, **extra: Any) -> list[Transaction]:
    fields = {"device_id": "dev-1", "channel": "app", **extra}
    return [txn(f"d{i}", i * spacing, "20", account=f"acc-{i % 7}", **fields) for i in range(count)]


def test_device_burst_across_accounts_fires_once() -> None:
    signals = run(DEVICE, device_burst(25, 20))
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("device", "dev-1")
    assert signal.aggregates["n"] == 21
    assert signal.aggregates["accounts"] == 7
    assert signal.evidence == tuple(f"d{i}" for i in range(21))
    assert signal.trigger_event_id == "d20"


def test_device_near_misses() -> None:
    assert run(DEVICE, device_burst(20, 20)) == []  # at the threshold, not above
    assert run(DEVICE, device_burst(21, 30)) == []  # first and last 10 minutes apart
    assert run(DEVICE, device_burst(21, 20, channel="pos")) == []  # a shop terminal
    two_devices = [
        event.model_copy(update={"device_id": f"dev-{i % 2}"})
        for i, event in enumerate(device_burst(30, 10))
    ]
    assert run(DEVICE, two_devices) == []
    refunds = [txn(f"r{i}", i, type="refund", device_id="dev-1") for i in range(30)]
    assert run(DEVICE, refunds) == []


def test_device_burst_is_order_independent_within_lateness() -> None:
    events = device_burst(21, 20)
    expected = run(DEVICE, events)
    for seed in range(3):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        again = run(DEVICE, shuffled)
        assert [s.signal_id for s in again] == [s.signal_id for s in expected]
        assert set(again[0].evidence) == set(expected[0].evidence)


def ip_burst(count: int, spacing: float, ip: str | None = "203.0.113.7") -> list[Transaction]:
    return [
        txn(f"i{i}", i * spacing, "50", account=f"acc-{i}", ip=ip or f"203.0.113.{i}")
        for i in range(count)
    ]


def test_ip_burst_fires_on_the_address() -> None:
    signals = fired(IP, ip_burst(40, 10), "velocity.ip")
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("ip", "203.0.113.7")
    assert signal.aggregates["n"] == 31
    assert signal.aggregates["accounts"] == 31
    assert signal.trigger_event_id == "i30"


def test_ip_near_misses() -> None:
    assert run(IP, ip_burst(30, 10)) == []  # at the threshold
    assert run(IP, ip_burst(31, 20)) == []  # spread over 10 minutes
    assert run(IP, ip_burst(40, 10, ip=None)) == []  # same /24, different addresses
    no_ip = [txn(f"n{i}", i, account=f"acc-{i}") for i in range(40)]
    assert run(IP, no_ip) == []
