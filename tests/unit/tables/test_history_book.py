"""The replica of the profiles topic: hostile records refused with a reason, counted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from riskstream.tables.history import EntityHistory
from riskstream.tables.history_book import MAX_RECORD_BYTES, HistoryBook, encode

AS_OF = "2026-12-07T00:00:00+00:00"


def record(key: bytes | None, value: Any, offset: int = 0) -> SimpleNamespace:
    raw = value if value is None or isinstance(value, bytes) else orjson.dumps(value)
    return SimpleNamespace(key=key, value=raw, partition=0, offset=offset)


def body(**changes: Any) -> dict[str, Any]:
    good = {"format": 1, "entity_type": "account", "entity_id": "acc-1", "as_of": AS_OF,
            "profile": {"amount_p95": 120.5, "txn_count": 40, "known_devices": ["dev-1"]},
            "state": {"first_ms": 0, "days": {}}}  # fmt: skip
    return {**good, **changes}


def test_a_good_record_keeps_the_profile_only() -> None:
    book = HistoryBook()
    book.apply_record(record(b"account:acc-1", body()))
    assert book.lookup("account", "acc-1") == {
        "amount_p95": 120.5, "txn_count": 40, "known_devices": ["dev-1"],
    }  # fmt: skip
    assert book.as_of("account", "acc-1") == 1_796_601_600_000
    assert book.lookup("account", "acc-2") == {} and book.as_of("device", "x") is None
    assert not book.refused and len(book) == 1


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (None, body(), "no_key"),
        (b"account", body(), "bad_key"),
        (b"planet:earth", body(), "bad_key"),
        (b"\xff\xfe", body(), "bad_key"),
        (b"account:acc-1", b"{not json", "not_json"),
        (b"account:acc-1", b"NaN", "not_json"),
        (b"account:acc-1", [1, 2], "not_object"),
        (b"account:acc-1", body(format=2), "bad_format"),
        (b"account:acc-1", body(format="1"), "bad_format"),
        (b"account:acc-2", body(), "key_mismatch"),
        (b"account:acc-1", body(entity_type="device"), "key_mismatch"),
        (b"account:acc-1", body(as_of="yesterday"), "bad_as_of"),
        (b"account:acc-1", body(as_of="2026-12-07T00:00:00"), "bad_as_of"),
        (b"account:acc-1", body(profile=[1]), "bad_profile"),
        (b"account:acc-1", body(profile={"Amount": 1}), "bad_profile"),
        (b"account:acc-1", body(profile={"flag": True}), "bad_profile"),
        (b"account:acc-1", body(profile={"devices": [1, 2]}), "bad_profile"),
        (b"account:acc-1", body(profile={"devices": ["x"] * 65}), "bad_profile"),
        (b"account:acc-1", body(profile={"nested": {"a": 1}}), "bad_profile"),
        (b"account:acc-1", body(profile={"txn_count": 2**63}), "bad_profile"),
        (b"account:acc-1", body(profile={f"f{i}": i for i in range(257)}), "bad_profile"),
        (b"account:acc-1", b" " * (MAX_RECORD_BYTES + 1), "oversized"),
    ],
)
def test_a_bad_record_is_refused_with_its_reason(key: Any, value: Any, reason: str) -> None:
    book = HistoryBook()
    book.apply_record(record(b"account:acc-1", body()))
    book.apply_record(record(key, value, offset=1))  # never raises
    assert book.refused == {reason: 1}
    assert book.lookup("account", "acc-1")["txn_count"] == 40  # the good one stands


def test_a_tombstone_forgets_and_an_older_build_never_overwrites() -> None:
    book = HistoryBook()
    book.apply_record(record(b"account:acc-1", body()))
    older = body(as_of="2026-12-06T00:00:00+00:00", profile={"txn_count": 1})
    book.apply_record(record(b"account:acc-1", older))
    assert book.lookup("account", "acc-1")["txn_count"] == 40
    book.apply_record(record(b"account:acc-1", None))
    assert book.lookup("account", "acc-1") == {} and len(book) == 0
    assert book.applied == 3 and not book.refused


def test_a_record_too_large_for_the_topic_goes_without_its_state() -> None:
    state = EntityHistory(0)
    for index in range(90):
        day = state.day(index)
        for number in range(60):
            day.note("accounts", f"acc-{index}-{number}", 64)
    key, value, left_out = encode(("merchant", "m-1"), {"txn_count": 5}, 0, state, 50_000)
    assert left_out and len(value) < 50_000 and b"state" not in value and key == b"merchant:m-1"
    _, whole, left_out = encode(("merchant", "m-1"), {"txn_count": 5}, 0, state, 1 << 22)
    assert not left_out and b'"state"' in whole
