"""A producer buffer whose flush returns only once every buffered message is sent,
after sending first what agents keep waiting in buffers of their own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from faust.transport.producer import ProducerBuffer
from faust.types.tuples import FutureMessage

Flush = Callable[[], Awaitable[None]]


class DrainingProducerBuffer(ProducerBuffer):
    """Faust's buffer of table changelog writes, flushed to the last message.

    Faust commits input offsets right after ``producer.flush()``, which flushes this
    buffer and then the Kafka client. Faust's own buffer flush gives up when no message
    went out for 0.1 s (a busy event loop is enough), with writes still queued: an offset
    could then be committed before its event's state write reached the changelog, and a
    worker killed at that moment came back without it. Only the plain (not threaded)
    producer is supported; riskstream never turns ``producer_threaded`` on.

    ``before_flush`` holds the flushes of output agents batch across events (re-keyed
    events waiting to be bundled): they run first, so that output is sent before the
    offsets of its events are committed too.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        self.in_flight = 0  # taken off the queue, not yet handed to the client
        self.before_flush: list[Flush] = []

    async def _send_pending(self, fut: FutureMessage) -> None:
        self.in_flight += 1
        try:
            await super()._send_pending(fut)
        finally:
            self.in_flight -= 1

    async def flush(self) -> None:
        for flush_agent_output in list(self.before_flush):
            await flush_agent_output()
        while self.size or self.in_flight:
            if self.state != "running" and self.size:
                raise RuntimeError("Cannot flush: Producer not Running")
            self.message_sent.clear()
            # Wakes on each message sent; the timeout only re-checks the loop condition.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.message_sent.wait(), timeout=0.1)
