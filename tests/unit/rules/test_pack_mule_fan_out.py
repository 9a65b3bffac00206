"""mule.fan_out: one account spreading money over many payees within the hour."""

from __future__ import annotations

import random
from decimal import Decimal

from riskstream.streams.events import Transaction
from tests.unit.factories import txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("mule.fan_out")


def sends(count: int = 10, amount: str = "600", *, payees: int | None = None,
          type: str = "transfer", spacing: float = 60, status: str = "succeeded",
          ) -> list[Transaction]:  # fmt: skip
    return [
        txn(f"s{i}", i * spacing, amount, type=type, status=status,
            counterparty_id=f"payee-{i % (payees or count)}")
        for i in range(count)
    ]  # fmt: skip


def test_ten_payees_in_an_hour_fire() -> None:
    signals = run(RULE, sends(12))
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", "acc-1")
    assert (signal.aggregates["payees"], signal.aggregates["n"]) == (10, 10)
    assert Decimal(str(signal.aggregates["total"])) == Decimal(6000)
    assert signal.evidence == tuple(f"s{i}" for i in range(10))


def test_mixed_transfers_and_red_packets_count() -> None:
    events = [*sends(5, "1000"), *[
        txn(f"r{i}", 400 + i, "200", type="red_packet", counterparty_id=f"friend-{i}")
        for i in range(5)
    ]]  # fmt: skip
    assert [s.aggregates["payees"] for s in run(RULE, events)] == [10]


def test_near_misses() -> None:
    cases = {
        "nine payees": sends(20, payees=9),
        "festival red packets (small amounts)": sends(15, "168", type="red_packet"),
        "spread over more than an hour": sends(10, spacing=400),
        "failed transfers": sends(10, status="failed"),
        "payments to merchants": [
            txn(f"p{i}", i * 60, "600", counterparty_id=f"m-{i}") for i in range(10)
        ],
    }
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_arrival_order_does_not_matter() -> None:
    events = sends(10)
    expected = run(RULE, events)
    for seed in range(3):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert [s.signal_id for s in run(RULE, shuffled)] == [expected[0].signal_id]
