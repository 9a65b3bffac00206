"""velocity.account: many outgoing transactions, or much money in several, within 10 minutes."""

from __future__ import annotations

from tests.unit.factories import txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("velocity.account")


def test_eleven_payments_in_ten_minutes_fire() -> None:
    (signal,) = run(RULE, [txn(f"p{i}", i * 30, "15") for i in range(11)])
    assert signal.aggregates["n"] == 11
    assert signal.trigger_event_id == "p10"


def test_ten_payments_do_not() -> None:
    assert run(RULE, [txn(f"p{i}", i * 30, "15") for i in range(10)]) == []


def test_three_transfers_over_5000_fire() -> None:
    events = [txn(f"t{i}", i * 60, "1800", type="transfer") for i in range(3)]
    (signal,) = run(RULE, events)
    assert signal.aggregates["total"] == "5400"


def test_one_or_two_large_transfers_are_not_velocity() -> None:
    assert run(RULE, [txn("rent", 0, "12000", type="transfer")]) == []
    assert run(RULE, [txn("a", 0, "4000", type="transfer"), txn("b", 60, "4000")]) == []


def test_the_sum_counts_only_money_that_moved() -> None:
    events = [txn(f"t{i}", i * 60, "1800", type="transfer") for i in range(2)]
    events.append(txn("declined", 120, "1800", type="transfer", status="failed"))
    assert run(RULE, events) == []
