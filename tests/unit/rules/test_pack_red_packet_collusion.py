"""red_packet.collusion: a stream of red packets inside a tiny group."""

from __future__ import annotations

import random
from decimal import Decimal

from riskstream.streams.events import Transaction
from tests.unit.factories import txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("red_packet.collusion")
HOUR = 3600


def packets(count: int = 10, amount: str = "120", *, recipients: int = 3,
            spacing: float = 1800, type: str = "red_packet",
            status: str = "succeeded") -> list[Transaction]:  # fmt: skip
    return [
        txn(f"r{i}", i * spacing, amount, type=type, status=status,
            counterparty_id=f"friend-{i % recipients}")
        for i in range(count)
    ]  # fmt: skip


def test_ten_red_packets_to_three_people_fire() -> None:
    signals = run(RULE, packets())
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", "acc-1")
    assert (signal.aggregates["n"], signal.aggregates["recipients"]) == (10, 3)
    assert Decimal(str(signal.aggregates["total"])) == Decimal(1200)
    assert signal.evidence == tuple(f"r{i}" for i in range(10))


def test_a_single_recipient_fires_too() -> None:
    assert len(run(RULE, packets(12, "520", recipients=1))) == 1


def test_near_misses() -> None:
    cases = {
        "four recipients": packets(recipients=4),
        "nine red packets": packets(9, "200"),
        "playful amounts under the floor": packets(10, "99"),
        "spread over more than a day": packets(10, spacing=3 * HOUR),
        "failed red packets": packets(status="failed"),
        "transfers are not red packets": packets(type="transfer"),
    }
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_arrival_order_does_not_matter() -> None:
    events = packets(spacing=30)
    expected = run(RULE, events)
    for seed in range(4):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert [s.signal_id for s in run(RULE, shuffled)] == [expected[0].signal_id]
