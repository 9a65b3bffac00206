"""Input events held per partition and processed as one batch.

An entity's record is read and written once per batch, not once per event. A batch of a
partition goes when it is full, when its partition is caught up (nothing behind it, so
waiting would only add latency), or after a short linger, and at once while a rebalance
waits for every started event to finish. Its events are acknowledged only after it is
done: an offset is never committed before its event has been applied.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.types import EventT

from riskstream.streams.batching import acting_as, caught_up

ProcessBatch = Callable[[int, list[EventT[Any]]], Awaitable[None]]


class PartitionBatches:
    def __init__(self, app: faust.App, process: ProcessBatch, max_events: int, linger_s: float):
        self.app = app
        self.process = process
        self.max_events = max_events
        self.linger_s = linger_s
        self._pending: dict[int, list[EventT[Any]]] = {}
        self._since: dict[int, float] = {}
        # One batch of a partition at a time: the next one reads the records the
        # previous one writes (the linger and the stream may both start one).
        self._running: dict[int, asyncio.Lock] = {}
        self.batches = 0

    @property
    def held(self) -> int:
        return sum(map(len, self._pending.values()))

    async def add(self, event: EventT[Any]) -> None:
        partition = event.message.partition
        pending = self._pending.setdefault(partition, [])
        if not pending:
            self._since[partition] = time.monotonic()
        pending.append(event)
        if len(pending) >= self.max_events or caught_up(self.app, event):
            await self.run(partition)

    async def run(self, partition: int) -> None:
        async with self._running.setdefault(partition, asyncio.Lock()):
            events = self._pending.pop(partition, None)
            self._since.pop(partition, None)
            if not events:
                return
            # Writes are filed under the partition's own events' (see ``acting_as``).
            with acting_as(events[-1]):
                await self.process(partition, events)
            self.batches += 1
            for event in events:
                event.ack()

    async def linger(self) -> None:
        """Batches never wait much longer than ``linger_s``, nor through a rebalance."""
        while True:
            await asyncio.sleep(self.linger_s / 2)
            now = time.monotonic()
            for partition, since in list(self._since.items()):
                if self.app.rebalancing or now - since >= self.linger_s:
                    await self.run(partition)
