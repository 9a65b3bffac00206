"""A producer buffer whose flush returns only once every buffered message is sent."""

from __future__ import annotations

import asyncio
import contextlib

from faust.transport.producer import ProducerBuffer
from faust.types.tuples import FutureMessage


class DrainingProducerBuffer(ProducerBuffer):
    """Faust's buffer of table changelog writes, flushed to the last message.

    Faust commits input offsets right after ``producer.flush()``, which flushes this
    buffer and then the Kafka client. Faust's own buffer flush gives up when no message
    went out for 0.1 s (a busy event loop is enough), with writes still queued: an offset
    could then be committed before its event's state write reached the changelog, and a
    worker killed at that moment came back without it. Only the plain (not threaded)
    producer is supported; riskstream never turns ``producer_threaded`` on.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        self.in_flight = 0  # taken off the queue, not yet handed to the client

    async def _send_pending(self, fut: FutureMessage) -> None:
        self.in_flight += 1
        try:
            await super()._send_pending(fut)
        finally:
            self.in_flight -= 1

    async def flush(self) -> None:
        while self.size or self.in_flight:
            if self.state != "running" and self.size:
                raise RuntimeError("Cannot flush: Producer not Running")
            self.message_sent.clear()
            # Wakes on each message sent; the timeout only re-checks the loop condition.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.message_sent.wait(), timeout=0.1)
