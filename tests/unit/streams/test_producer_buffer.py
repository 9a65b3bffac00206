"""The producer buffer flushed before every offset commit leaves nothing behind."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.transport.producer import ProducerBuffer
from faust.types.tuples import FutureMessage, PendingMessage

from riskstream.streams.app import create_faust_app
from riskstream.streams.producer_buffer import DrainingProducerBuffer
from riskstream.streams.settings import Settings


class SlowChannel:
    """Hands each message to the 'client' after a pause longer than Faust's 0.1 s."""

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s
        self.sent: list[bytes] = []

    async def publish_message(self, fut: FutureMessage, wait: bool = False) -> None:
        await asyncio.sleep(self.pause_s)
        self.sent.append(fut.message.key)


def _message(channel: SlowChannel, key: bytes) -> FutureMessage:
    pending = PendingMessage(
        channel=channel,  # type: ignore[arg-type]
        key=key, value=b"v", partition=None, timestamp=None, headers=None,
        key_serializer=None, value_serializer=None, callback=None,
    )  # fmt: skip
    return FutureMessage(pending)


async def _sent_when_flush_returns(buffer: ProducerBuffer, count: int) -> list[bytes]:
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    channel = SlowChannel(pause_s=0.15)
    await buffer.start()
    try:
        for index in range(count):
            buffer.put(_message(channel, f"k{index}".encode()))
        await buffer.flush()
        return list(channel.sent)
    finally:
        while not buffer.pending.empty():  # what Faust's flush left behind
            buffer.pending.get_nowait()
        await buffer.stop()


async def test_flush_waits_for_every_message_even_when_each_send_is_slow() -> None:
    sent = await _sent_when_flush_returns(DrainingProducerBuffer(), count=4)
    assert sent == [b"k0", b"k1", b"k2", b"k3"]


async def test_faust_buffer_alone_would_return_with_messages_unsent() -> None:
    # Why the draining buffer exists: if this starts failing, Faust's flush has been
    # fixed and ours may go.
    sent = await _sent_when_flush_returns(ProducerBuffer(), count=4)
    assert len(sent) < 4


def test_the_app_producer_uses_the_draining_buffer(tmp_path: Any) -> None:
    app = create_faust_app(Settings(data_dir=tmp_path))
    assert isinstance(app.producer.buffer, DrainingProducerBuffer)
    assert app.producer.buffer.app is app


async def test_agent_output_waiting_in_its_own_buffer_is_sent_by_the_same_flush() -> None:
    buffer = DrainingProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    channel = SlowChannel(pause_s=0.15)
    waiting = [b"bundle-0", b"bundle-1"]

    async def send_waiting() -> None:
        while waiting:
            buffer.put(_message(channel, waiting.pop(0)))

    buffer.before_flush.append(send_waiting)
    await buffer.start()
    try:
        buffer.put(_message(channel, b"state-write"))
        await buffer.flush()
        assert channel.sent == [b"state-write", b"bundle-0", b"bundle-1"]
    finally:
        await buffer.stop()
