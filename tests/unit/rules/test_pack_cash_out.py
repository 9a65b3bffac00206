"""cash_out: a top-up taken out again, nearly whole, within the hour."""

from __future__ import annotations

from typing import Any

from riskstream.streams.events import Transaction
from tests.unit.factories import txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("cash_out")


def top_up(seconds: float = 0, amount: str = "5000", **extra: Any) -> Transaction:
    return txn("in", seconds, amount, type="top_up", instrument_id="card-1", **extra)


def withdrawal(seconds: float = 1800, amount: str = "4500", **extra: Any) -> Transaction:
    fields = {"instrument_id": "bank-7", **extra}
    return txn("out", seconds, amount, type="withdrawal", **fields)


def test_top_up_then_near_total_withdrawal_fires() -> None:
    signals = run(RULE, [top_up(), withdrawal()])
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", "acc-1")
    assert signal.evidence == ("in", "out")
    assert signal.aggregates["span_seconds"] == 1800.0


def test_exactly_80_percent_is_enough_and_unknown_instruments_count() -> None:
    assert len(run(RULE, [top_up(), withdrawal(amount="4000")])) == 1
    bare_in = txn("in", 0, "5000", type="top_up")
    bare_out = txn("out", 60, "4990", type="withdrawal")
    assert len(run(RULE, [bare_in, bare_out])) == 1


def test_a_small_top_up_before_does_not_hide_the_qualifying_one() -> None:
    events = [
        txn("small", 0, "100", type="top_up"),
        top_up(60),
        withdrawal(120),
    ]
    signals = run(RULE, events)
    assert len(signals) == 1
    assert signals[0].evidence == ("in", "out")


def test_near_misses() -> None:
    cases = {
        "withdraws less than 80%": [top_up(), withdrawal(amount="3999.99")],
        "after the hour": [top_up(), withdrawal(3601)],
        "below the 1000 floor": [top_up(amount="999"), withdrawal(amount="990")],
        "back to the funding card": [top_up(), withdrawal(instrument_id="card-1")],
        "failed withdrawal": [top_up(), withdrawal(status="failed")],
        "failed top-up": [top_up(status="failed"), withdrawal()],
        "withdrawal before the top-up": [withdrawal(0), top_up(60)],
        "another account withdraws": [top_up(), withdrawal(account="acc-2")],
        "spent, not withdrawn": [top_up(), txn("p", 600, "4800", counterparty_id="m-1")],
    }
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_a_withdrawal_arriving_before_its_top_up_gives_the_same_signal() -> None:
    in_order = run(RULE, [top_up(0), withdrawal(300)])
    reversed_ = run(RULE, [withdrawal(300), top_up(0)])
    assert len(in_order) == 1
    assert [s.signal_id for s in reversed_] == [s.signal_id for s in in_order]
    assert reversed_[0].evidence == ("in", "out")
