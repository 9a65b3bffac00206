"""Input events held per partition and processed as one batch.

An entity's record is read and written once per batch, not once per event. A batch of a
partition goes when it is full, when its partition is caught up (nothing behind it, so
waiting would only add latency), or after a short linger, and at once while a rebalance
waits for every started event to finish. Its events are acknowledged only after it is
done: an offset is never committed before its event has been applied. Events the batch
keeps (held until their event time is final) are acknowledged by their keeper.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.types import EventT

from riskstream.agents.acks import OrderedAcks
from riskstream.streams.batching import acting_as, caught_up

# Returns the events it keeps (acknowledged later, by whoever keeps them), if any.
ProcessBatch = Callable[[int, list[EventT[Any]]], Awaitable[list[EventT[Any]] | None]]


class PartitionBatches:
    def __init__(
        self,
        app: faust.App,
        process: ProcessBatch,
        max_events: int,
        linger_s: float,
        acks: OrderedAcks | None = None,
    ):
        self.app = app
        self.acks = acks  # else each event is acknowledged as it is done
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
        if self.acks is not None:
            self.acks.track(event)
        pending = self._pending.setdefault(partition, [])
        if not pending:
            self._since[partition] = time.monotonic()
        pending.append(event)
        if len(pending) >= self.max_events or caught_up(self.app, event):
            await self.run(partition)

    def lock(self, partition: int) -> asyncio.Lock:
        """Held while a batch of ``partition`` runs."""
        return self._running.setdefault(partition, asyncio.Lock())

    async def run(self, partition: int) -> None:
        async with self.lock(partition):
            events = self._pending.pop(partition, None)
            self._since.pop(partition, None)
            if not events:
                return
            # Writes are filed under the partition's own events' (see ``acting_as``).
            with acting_as(events[-1]):
                kept = {id(event) for event in await self.process(partition, events) or ()}
            self.batches += 1
            for event in events:
                if id(event) not in kept:
                    self.done(event)

    def done(self, event: EventT[Any]) -> None:
        if self.acks is None:
            event.ack()
        else:
            self.acks.done(event)

    async def settle(self) -> None:
        """Runs what waits and waits for what runs: no batch is in progress after."""
        for partition in list(self._pending):
            await self.run(partition)
        for lock in list(self._running.values()):
            async with lock:
                pass

    async def linger(self) -> None:
        """Batches never wait much longer than ``linger_s``, nor through a rebalance."""
        while True:
            await asyncio.sleep(self.linger_s / 2)
            now = time.monotonic()
            for partition, since in list(self._since.items()):
                if self.app.rebalancing or now - since >= self.linger_s:
                    await self.run(partition)
