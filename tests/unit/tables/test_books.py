from __future__ import annotations

from datetime import UTC, datetime, timedelta

from riskstream.streams.scoring_model import Penalty
from riskstream.tables.books import PenaltyBook

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
