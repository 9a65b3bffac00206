"""merchant.fraud_rate: merchants whose recent payments are confirmed fraud."""

from __future__ import annotations

import random
from datetime import timedelta

from riskstream.streams.events import Feedback, Transaction
from tests.unit.factories import at, txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("merchant.fraud_rate")
HOUR = 3600
DAY = 86_400


def feedback(event_id: str, seconds: float, label: str = "fraud", *,
             merchant: str = "m-1", target: str = "p0") -> Feedback:  # fmt: skip
    return Feedback.model_validate(
        {"event_id": event_id, "type": "feedback", "target_event_id": target, "label": label,
         "occurred_at": at(seconds), "account_id": "acc-1", "counterparty_id": merchant,
         "source": "chargeback"}
    )  # fmt: skip


def sales(count: int, *, spacing: float = 2 * HOUR, merchant: str = "m-1") -> list[Transaction]:
    return [
        txn(f"p{i}", i * spacing, "80", account=f"acc-{i}", counterparty_id=merchant)
        for i in range(count)
    ]


def labels(count: int = 3, start: float = 4 * DAY, label: str = "fraud",
           spacing: float = HOUR) -> list[Feedback]:  # fmt: skip
    return [feedback(f"f{i}", start + i * spacing, label, target=f"p{i}") for i in range(count)]


def chronological(*groups: list[Transaction] | list[Feedback]) -> list[Transaction | Feedback]:
    return sorted((event for group in groups for event in group), key=lambda e: e.occurred_at)


def test_three_fraud_labels_on_40_sales_fire_on_the_merchant() -> None:
    signals = run(RULE, [*sales(40), *labels()])
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("merchant", "m-1")
    assert signal.trigger_event_id == "f2"
    assert (signal.aggregates["fraud"], signal.aggregates["sales"]) == (3, 40)
    assert signal.aggregates["rate"] == 0.075
    assert {"f0", "f1", "f2", "p0", "p39"} <= set(signal.evidence)
    assert signal.expires_at - signal.detected_at == timedelta(days=7)


def test_near_misses() -> None:
    cases = {
        "two fraud labels": [*sales(10), *labels(2)],
        "three in a hundred (3%)": [*sales(100, spacing=HOUR), *labels()],
        "legit labels": [*sales(10), *labels(5, label="legit")],
        "another merchant's fraud": [
            *sales(10), *[feedback(f"x{i}", 4 * DAY + i, merchant="m-2") for i in range(3)]],
    }  # fmt: skip
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_declined_payments_are_not_sales() -> None:
    # 3 of 40 sales is 7.5%; were the 30 declines sales too, it would be 4.3%.
    declined = [
        txn(f"d{i}", i * 3 * HOUR + 60, "80", status="failed", counterparty_id="m-1")
        for i in range(30)
    ]
    signals = run(RULE, chronological(sales(40), declined, labels()))
    assert [(s.aggregates["sales"], s.aggregates["fraud"]) for s in signals] == [(40, 3)]


def test_labels_spread_over_more_than_7_days_do_not_add_up() -> None:
    # The third label comes 8 days after the first: only two are within 7 days of it,
    # though 3 labels on the 33 sales so far would be 9%.
    spread = [feedback(f"z{i}", i * 4 * DAY + 60) for i in range(3)]
    assert run(RULE, chronological(sales(40, spacing=6 * HOUR), spread)) == []
    # The same labels within 7 days do fire: the window, not the data, makes the difference.
    close = [feedback(f"c{i}", 4 * DAY + i * 3 * DAY + 60) for i in range(3)]
    assert len(run(RULE, chronological(sales(40, spacing=6 * HOUR), close))) == 1


def test_feedback_arriving_before_payments_it_follows_gives_one_signal() -> None:
    """Feedback and payments come from different topics, skewed within the lateness."""
    events = [*sales(20, spacing=20), *labels(3, start=420, spacing=10)]
    expected = run(RULE, events)
    assert len(expected) == 1
    for seed in range(4):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        again = run(RULE, shuffled)
        assert [s.entity_id for s in again] == ["m-1"], seed
