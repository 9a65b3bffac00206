from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from riskstream.streams.follow import apply_untrusted
from riskstream.tables.books import PenaltyBook, ProfileBook


@pytest.mark.parametrize(
    "value",
    [b"{not json", b"[]", b'{"kind": "freeze"}', b"\xff\xfe", b'{"expires_at": "9999-12-31"}'],
)
def test_a_record_no_book_can_apply_is_refused_and_logged(
    value: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    record = SimpleNamespace(key=b"account:a:freeze:x", value=value, partition=0, offset=41)
    with caplog.at_level(logging.ERROR, logger="riskstream.streams.follow"):
        assert not apply_untrusted("risk.penalties", PenaltyBook().apply_record, record)
        assert not apply_untrusted("risk.signals", ProfileBook().apply_record, record)
    assert "risk.penalties: record at partition 0 offset 41 refused" in caplog.text
    assert "risk.signals: record at partition 0 offset 41 refused" in caplog.text


def test_a_record_that_applies_is_applied() -> None:
    seen: list[object] = []
    record = SimpleNamespace(key=None, value=b"{}", partition=0, offset=1)
    assert apply_untrusted("t", seen.append, record)
    assert seen == [record]
