from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaConnectionError

from riskstream.streams import follow
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


def test_the_retry_wait_doubles_up_to_a_cap_and_starts_over_once_connected() -> None:
    backoff = follow.Backoff(first_s=2.0, cap_s=60.0)
    assert [backoff.next_delay() for _ in range(8)] == [2, 4, 8, 16, 32, 60, 60, 60]
    backoff.reset()
    assert backoff.next_delay() == 2


async def test_a_follower_refused_its_login_backs_off_and_sums_its_failures_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Refused:
        def __init__(self, *topics: str, **options: object) -> None:
            pass

        async def start(self) -> None:
            raise KafkaConnectionError("SaslAuthenticationFailed: wrong password")

        async def stop(self) -> None:
            stopped.append(True)

    now = [1000.0]
    waits: list[float] = []
    stopped: list[bool] = []

    async def wait(stop: asyncio.Event | None, delay_s: float) -> bool:
        waits.append(delay_s)
        now[0] += delay_s
        return len(waits) == 10

    monkeypatch.setattr(follow, "AIOKafkaConsumer", Refused)
    monkeypatch.setattr(follow, "_stopped", wait)
    monkeypatch.setattr(follow.FAILURES, "clock", lambda: now[0])
    with caplog.at_level(logging.INFO):
        await follow.follow_topic({}, "t-refused", lambda record: None, asyncio.Event())

    assert waits == [2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
    assert len(stopped) == 10, "each refused consumer is closed"
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "following t-refused failed, retrying in 2 s: "
        "KafkaConnectionError('SaslAuthenticationFailed: wrong password')",
        "9 more like this from riskstream.streams.follow.t-refused in the last 302 s, the "
        "last: following t-refused failed, retrying in 60 s: "
        "KafkaConnectionError('SaslAuthenticationFailed: wrong password')",
    ]
