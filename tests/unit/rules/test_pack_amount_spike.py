"""amount.spike: an outgoing amount far above the account's own 30-day mean."""

from __future__ import annotations

from riskstream.streams.events import Transaction
from tests.unit.factories import txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("amount.spike")
DAY = 86_400


def history(days: int = 5, amount: str = "100", per_day: int = 1) -> list[Transaction]:
    """Ordinary spending on each of the ``days`` days before today."""
    return [
        txn(f"h{day}-{i}", -day * DAY + i * 600, amount, counterparty_id="m-1")
        for day in range(days, 0, -1)
        for i in range(per_day)
    ]


def test_ten_times_the_usual_amount_fires() -> None:
    signals = run(RULE, [*history(), txn("big", 0, "1000", type="transfer")])
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", "acc-1")
    assert signal.evidence == ("big",)
    assert signal.aggregates == {"spike": 10.0, "spike_days": 5}


def test_each_spiking_transaction_is_judged_on_its_own() -> None:
    events = [
        *history(10, "200", per_day=3),
        txn("a", 0, "5000", type="withdrawal"),
        txn("b", 3600, "2500"),
        txn("small", 7200, "300"),
    ]
    assert [s.trigger_event_id for s in run(RULE, events)] == ["a", "b"]


def test_failed_attempts_neither_trigger_nor_count_in_the_baseline() -> None:
    failed_big = txn("fail", -DAY + 3600, "50000", status="failed")
    signals = run(RULE, [*history(), failed_big, txn("big", 0, "1000")])
    assert [s.trigger_event_id for s in signals] == ["big"]
    assert run(RULE, [*history(), txn("big", 0, "5000", status="failed")]) == []


def test_near_misses() -> None:
    cases = {
        "only four days of history": [*history(4), txn("big", 0, "5000")],
        "under the 1000 floor": [*history(amount="50"), txn("big", 0, "999")],
        "9.5 times the mean": [*history(amount="200"), txn("big", 0, "1900")],
        "money coming in": [*history(), txn("big", 0, "5000", type="top_up")],
        "a history older than 30 days": [
            *[t.model_copy(update={"occurred_at": t.occurred_at.replace(year=2025)})
              for t in history(10)],
            txn("big", 0, "5000"),
        ],
    }  # fmt: skip
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_today_is_not_part_of_the_baseline() -> None:
    # A large amount earlier today does not raise the bar for the next one.
    events = [*history(), txn("a", 0, "3000"), txn("b", 600, "1000")]
    assert [s.trigger_event_id for s in run(RULE, events)] == ["a", "b"]
