from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import orjson

from riskstream.streams.events import to_epoch_ms
from riskstream.streams.scoring_model import Penalty
from riskstream.tables.books import ActiveSignal, PenaltyBook, ProfileBook

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def entry(entity_id: str, kind: str, source: str, hours: float = 1) -> Penalty:
    return Penalty(
        entity_type="account", entity_id=entity_id, kind=kind, reason="test",  # type: ignore[arg-type]
        source=source, created_at=NOW - timedelta(minutes=1),
        expires_at=NOW + timedelta(hours=hours),
    )  # fmt: skip


def test_entries_of_an_entity_in_force_in_id_order() -> None:
    book = PenaltyBook()
    assert book.for_entity("account", "acc", NOW) == []
    review, block = entry("acc", "review", "operator:b"), entry("acc", "block", "operator:a")
    for penalty in (review, block, entry("acc", "step_up", "operator:c", hours=-0.01),
                    entry("other", "block", "operator:a")):  # fmt: skip
        book.put(penalty)
    assert book.for_entity("account", "acc", NOW) == [block, review]
    assert book.for_entity("device", "acc", NOW) == []
    book.remove(block.penalty_id)
    book.remove(review.penalty_id)
    assert book.for_entity("account", "acc", NOW + timedelta(hours=2)) == []
    assert book.for_entity("account", "acc", NOW) == []


def test_verdicts_clear_and_restore_the_signals_their_transactions_triggered() -> None:
    book = ProfileBook()
    now_ms = to_epoch_ms(NOW)

    def signal(signal_id: str, trigger: str) -> ActiveSignal:
        return ActiveSignal(signal_id, "velocity", "velocity.account", 60, now_ms - 1000,
                            now_ms + 3_600_000, None, trigger)  # fmt: skip

    book.apply_verdict("tx-early", "legit", now_ms - 500)  # before its signal is known
    for item in (signal("sig-a", "tx-a"), signal("sig-b", "tx-b"), signal("sig-e", "tx-early")):
        book.add("account", "acc", item)
    book.apply_verdict("tx-a", "legit", now_ms - 200)
    assert [s.signal_id for s in book.active("account", "acc", now_ms)] == ["sig-b"]
    book.apply_verdict("tx-a", "fraud", now_ms - 300)  # older than the verdict in force
    assert [s.signal_id for s in book.active("account", "acc", now_ms)] == ["sig-b"]
    book.apply_verdict("tx-a", "fraud", now_ms - 100)
    assert [s.signal_id for s in book.active("account", "acc", now_ms)] == ["sig-a", "sig-b"]


def test_feedback_records_that_cannot_be_read_are_skipped() -> None:
    book = ProfileBook()
    for raw in (None, b"not json", b"{}", b'{"target_event_id": "t", "label": "legit"}'):
        book.apply_feedback_record(SimpleNamespace(value=raw))
    readable = {
        "event_id": "fb-1", "type": "feedback", "occurred_at": "2026-11-23T12:00:00Z",
        "account_id": "acc", "target_event_id": "tx-1", "label": "legit",
    }  # fmt: skip
    book.apply_feedback_record(SimpleNamespace(value=orjson.dumps(readable)))
    cleared = ActiveSignal("s", "p", "r", 50, 0, to_epoch_ms(NOW) + 1, None, "tx-1")
    book.add("account", "acc", cleared)
    assert book.active("account", "acc", to_epoch_ms(NOW)) == []
