"""mule.fan_in: many payers into one account, then the money is withdrawn."""

from __future__ import annotations

import random
from decimal import Decimal

from riskstream.streams.events import Transaction
from tests.unit.factories import txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("mule.fan_in")
MULE = "mule-1"


def inflows(count: int = 5, amount: str = "1200", *, payers: int | None = None,
            type: str = "transfer", spacing: float = 120) -> list[Transaction]:  # fmt: skip
    """Incoming money: published under each payer's account, the mule as counterparty."""
    return [
        txn(f"in{i}", i * spacing, amount, type=type, account=f"payer-{i % (payers or count)}",
            counterparty_id=MULE)
        for i in range(count)
    ]  # fmt: skip


def cash_out(seconds: float = 900, amount: str = "5000", account: str = MULE) -> Transaction:
    return txn("out", seconds, amount, type="withdrawal", account=account)


def test_many_payers_then_a_withdrawal_fire_on_the_receiver() -> None:
    signals = run(RULE, [*inflows(), cash_out()])
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", MULE)
    assert signal.evidence == ("in0", "in1", "in2", "in3", "in4", "out")
    assert signal.aggregates["payers"] == 5
    assert Decimal(str(signal.aggregates["inflow"])) == Decimal(6000)
    assert Decimal(str(signal.aggregates["outflow"])) == Decimal(5000)
    assert signal.trigger_event_id == "out"


def test_red_packets_count_as_inflow() -> None:
    signals = run(RULE, [*inflows(type="red_packet"), cash_out(amount="3000")])
    assert len(signals) == 1
    assert Decimal(str(signals[0].aggregates["outflow"])) == Decimal(3000)


def test_near_misses() -> None:
    cases = {
        "four payers": [*inflows(4, "1500"), cash_out()],
        "five payments by two payers": [*inflows(5, payers=2), cash_out()],
        "withdraws less than half": [*inflows(), cash_out(amount="2999.99")],
        "below the 5000 inflow floor": [*inflows(5, "999"), cash_out(amount="4995")],
        "withdrawal after the hour": [*inflows(), cash_out(3601 + 4 * 120)],
        "keeps the money": inflows(10),
        "someone else withdraws": [*inflows(), cash_out(account="acc-9")],
        "failed transfers": [
            *[t.model_copy(update={"status": "failed"}) for t in inflows()],
            cash_out(),
        ],
        "merchant payments are sales, not inflow": [
            *[t.model_copy(update={"type": "payment"}) for t in inflows()],
            cash_out(),
        ],
    }
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_the_payers_sending_money_is_not_a_fan_in_on_their_side() -> None:
    signals = run(RULE, [*inflows(), cash_out()])
    assert {s.entity_id for s in signals} == {MULE}


def test_withdrawal_arriving_before_the_inflows_gives_the_same_signal() -> None:
    events = [*inflows(), cash_out()]
    expected = run(RULE, events)
    for seed in range(4):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        again = run(RULE, shuffled)
        assert [s.signal_id for s in again] == [expected[0].signal_id]
        assert set(again[0].evidence) == set(expected[0].evidence)
    first = run(RULE, [events[-1], *events[:-1]])
    assert [s.signal_id for s in first] == [expected[0].signal_id]
