"""card_testing: small probes on one card, then a large charge on it."""

from __future__ import annotations

from typing import Any

from riskstream.streams.events import Transaction
from tests.unit.factories import txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("card_testing")
PROBES = [("1", "failed"), ("2.50", "succeeded"), ("0.99", "failed"), ("5", "failed"),
          ("9.99", "succeeded")]  # fmt: skip


def probes(
    count: int = 5, *, card: str = "card-1", start: float = 0, **extra: Any
) -> list[Transaction]:
    return [
        txn(f"p{i}", start + i * 60, amount, status=status, account=f"acc-{i % 3}",
            instrument_id=card, **extra)
        for i, (amount, status) in enumerate((PROBES * 2)[:count])
    ]  # fmt: skip


def large(seconds: float = 1800, amount: str = "800", **extra: Any) -> Transaction:
    fields = {"instrument_id": "card-1", **extra}
    return txn("big", seconds, amount, account="acc-9", **fields)


def test_probes_then_a_large_charge_fire_on_the_card() -> None:
    signals = run(RULE, [*probes(), large()])
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("instrument", "card-1")
    assert signal.evidence == ("p0", "p1", "p2", "p3", "p4", "big")
    assert signal.aggregates == {"probes": 5, "large": 1, "span_seconds": 1800.0}
    assert signal.trigger_event_id == "big"


def test_a_large_top_up_counts_too_and_fires_once() -> None:
    events = [*probes(8), large(type="top_up"), large(2000, "900").model_copy(
        update={"event_id": "big2"})]  # fmt: skip
    signals = run(RULE, events)
    assert len(signals) == 1
    assert signals[0].evidence[-1] == "big"


def test_near_misses() -> None:
    cases = {
        "four probes": [*probes(4), large()],
        "large charge after the hour": [*probes(), large(3601)],
        "500 is not above 500": [*probes(), large(amount="500")],
        "probes of 10 are not small": [
            txn(f"q{i}", i, "10", instrument_id="card-1") for i in range(5)
        ]
        + [large()],
        "another card": [*probes(card="card-2"), large()],
        "large charge first": [large(0), *probes(start=60)],
        "no instrument (wallet balance)": [txn(f"w{i}", i, "1") for i in range(5)]
        + [txn("wbig", 100, "800")],
        "small transfers are not card charges": [*probes(type="transfer"), large()],
    }
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_arrival_order_does_not_matter() -> None:
    events = [*probes(), large()]
    expected = run(RULE, events)
    for order in (events[::-1], events[3:] + events[:3], [events[5], *events[:5]]):
        assert [s.signal_id for s in run(RULE, order)] == [s.signal_id for s in expected]
