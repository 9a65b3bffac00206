"""Acknowledgements in offset order, whatever order events finish in.

Events held until their event time is final finish out of offset order: a re-key
message with items from a lagging ingest partition waits while the next message's are
applied. Faust commits a partition up to the first offset not acknowledged, but its
check misses a gap of one message at the head, and any gap before the first commit
(``Consumer._new_offset``): a crash would then lose the held event. So each partition's
events are acknowledged only as a run from its oldest, when all of them are done.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import faust
from faust.types import TP, EventT


class _Entry:
    __slots__ = ("done", "event")

    def __init__(self, event: EventT[Any]) -> None:
        self.event = event
        self.done = False


class OrderedAcks:
    def __init__(self, app: faust.App) -> None:
        self.app = app
        self._queues: dict[TP, deque[_Entry]] = {}
        self._entries: dict[int, _Entry] = {}  # by id() of the event

    def __len__(self) -> int:
        return len(self._entries)

    def track(self, event: EventT[Any]) -> None:
        """``event`` is read: it is acknowledged once it and all before it are done."""
        entry = _Entry(event)
        self._entries[id(event)] = entry
        tp = event.message.tp
        queue = self._queues.get(tp)
        if queue is None:
            queue = self._queues[tp] = deque()
        queue.append(entry)

    def done(self, event: EventT[Any]) -> None:
        entry = self._entries.get(id(event))
        if entry is None or entry.event is not event:
            # Read before a rebalance let go of its partition: it comes again.
            abandon(self.app, [event])
            return
        entry.done = True
        queue = self._queues[event.message.tp]
        while queue and queue[0].done:
            first = queue.popleft()
            del self._entries[id(first.event)]
            first.event.ack()

    def abandon_all(self) -> None:
        """Nothing tracked is acknowledged: read again from the committed offsets."""
        abandon(self.app, [entry.event for entry in self._entries.values()])
        self._entries.clear()
        self._queues.clear()


def abandon(app: faust.App, events: Iterable[EventT[Any]]) -> None:
    """``events`` are not acknowledged, and Faust's wait for the events in progress at a
    rebalance or a stop no longer waits for them; the consumer, which reads again from
    the committed offsets, delivers them again."""
    unacked = getattr(app.consumer, "_unacked_messages", None)  # Faust's WeakSet
    if unacked is not None:
        for event in events:
            unacked.discard(event.message)
