"""structuring: several movements just under the reporting threshold in a day."""

from __future__ import annotations

import itertools
from typing import Any

from riskstream.streams.events import Transaction
from tests.unit.factories import txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("structuring")
HOUR = 3600


def test_three_transfers_just_below_the_threshold_fire() -> None:
    events = [
        txn("a", 0, "9500", type="transfer", counterparty_id="acc-7"),
        txn("b", 5 * HOUR, "9800", type="transfer", counterparty_id="acc-8"),
        txn("c", 20 * HOUR, "9999.99", type="transfer", counterparty_id="acc-9"),
    ]
    signals = run(RULE, events)
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", "acc-1")
    assert signal.evidence == ("a", "b", "c")
    assert signal.aggregates == {"n": 3, "total": "29299.99"}


def test_deposits_and_withdrawals_count_as_well() -> None:
    events = [
        txn("a", 0, "9000", type="top_up"),
        txn("m", HOUR, "300"),
        txn("b", 2 * HOUR, "9400", type="transfer", counterparty_id="acc-7"),
        txn("c", 3 * HOUR, "9100", type="withdrawal"),
    ]
    signals = run(RULE, events)
    assert [s.evidence for s in signals] == [("a", "b", "c")]


def test_near_misses() -> None:
    def band(*amounts: str, spacing: float = HOUR, **extra: Any) -> list[Transaction]:
        return [
            txn(f"e{i}", i * spacing, amount, type="transfer", **extra)
            for i, amount in enumerate(amounts)
        ]

    cases = {
        "two in the band": band("9500", "9600"),
        "third one at the threshold": band("9500", "9600", "10000"),
        "third one below the band": band("9500", "9600", "8999.99"),
        "spread over more than a day": band("9500", "9600", "9700", spacing=12 * HOUR + 1),
        "failed transfers": band("9500", "9600", "9700", status="failed"),
        "payments are not structuring": [
            txn(f"p{i}", i * HOUR, "9500", counterparty_id="m-1") for i in range(3)
        ],
    }
    for name, events in cases.items():
        assert run(RULE, events) == [], name
    spread = [txn(f"s{i}", i, "9500", type="transfer", account=f"acc-{i}") for i in range(3)]
    assert run(RULE, spread) == []


def test_any_arrival_order_gives_one_signal_with_the_same_id() -> None:
    events = [txn(f"e{i}", i * 60, "9900", type="transfer") for i in range(3)]
    expected = run(RULE, events)
    assert len(expected) == 1
    for order in itertools.permutations(events):
        assert [s.signal_id for s in run(RULE, order)] == [expected[0].signal_id]
