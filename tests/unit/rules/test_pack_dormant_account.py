"""dormant_account: months without money movement, then a large outflow."""

from __future__ import annotations

from decimal import Decimal

from riskstream.rules.loader import default_ruleset
from riskstream.streams.events import Transaction
from tests.unit.factories import account_event, txn
from tests.unit.rules.harness import fired, pack_rule, run

RULE = pack_rule("dormant_account")
DAY = 86_400
BACK = 100 * DAY  # the day the account comes back


def history(day: int = 0) -> list[Transaction]:
    return [txn("old", day * DAY, "50", counterparty_id="m-1")]


def comeback(*amounts: str, top_up: str = "5000") -> list[Transaction]:
    return [
        txn("top", BACK + 60, top_up, type="top_up"),
        *[txn(f"w{i}", BACK + 600 + i * 60, amount, type="withdrawal")
          for i, amount in enumerate(amounts)],
    ]  # fmt: skip


def test_large_withdrawal_after_100_quiet_days_fires() -> None:
    signals = run(RULE, [*history(), *comeback("2500")])
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", "acc-1")
    assert signal.trigger_event_id == "w0"
    assert signal.evidence == ("top", "w0")
    assert signal.aggregates["activity_days"] == 0
    assert Decimal(str(signal.aggregates["largest"])) == Decimal(2500)


def test_a_login_just_before_does_not_hide_dormancy_in_the_full_pack() -> None:
    """Attackers log in before they move money; that must not count as activity."""
    events = [*history(), account_event("login", BACK, "login"), *comeback("2500")]
    signals = fired(default_ruleset(), events, "dormant_account")
    assert [s.trigger_event_id for s in signals] == ["w0"]


def test_split_cash_out_fires_on_the_day_total_once() -> None:
    signals = run(RULE, [*history(), *comeback("900", "900", "900", "900", "900")])
    assert len(signals) == 1
    assert signals[0].trigger_event_id == "w3"  # 3600 > 3000
    assert Decimal(str(signals[0].aggregates["outflow"])) == Decimal(3600)


def test_once_a_day_and_not_again_the_next_day() -> None:
    events = [
        *history(),
        *comeback("2000", "2000"),
        txn("next", BACK + DAY, "2000", type="withdrawal"),
    ]
    assert [s.trigger_event_id for s in run(RULE, events)] == ["w0"]


def test_near_misses() -> None:
    cases = {
        "active 50 days ago": [*history(50), *comeback("2500")],
        "active exactly 90 days before": [*history(10), *comeback("2500")],
        "known for only 60 days": [
            txn("old", 40 * DAY, "50"), *comeback("2500")],
        "a brand-new account": comeback("2500"),
        "1000 is not above 1000": [*history(), *comeback("1000")],
        "three of 1000 are not above 3000": [*history(), *comeback("1000", "1000", "1000")],
        "failed withdrawal": [
            *history(), txn("w", BACK, "8000", type="withdrawal", status="failed")],
        "money coming in": [*history(), txn("in", BACK, "8000", type="top_up")],
    }  # fmt: skip
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_quiet_for_91_days_is_dormant() -> None:
    assert len(run(RULE, [*history(9), *comeback("2500")])) == 1


def test_arrival_order_on_the_comeback_day_does_not_matter() -> None:
    top, out = comeback("2500")
    expected = run(RULE, [*history(), top, out])
    again = run(RULE, [*history(), out, top])
    assert len(expected) == 1
    assert [s.signal_id for s in again] == [expected[0].signal_id]
