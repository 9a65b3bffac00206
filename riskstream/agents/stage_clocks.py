"""The event clocks of the two stages, fed from what their consumer knows.

``InputClocks``: an ingest partition's sources are the three input topics' partitions of
that number. A source's bound is its newest event time less the watermark delay; it is
idle once it has nothing left to read (its position has reached the high-water mark the
consumer last fetched) and nothing has come for ``idle_s``. A source with a backlog is
never idle, however long it takes to come.

Sending a misplaced event round to its account's partition (``agents/partitioning.py``)
is a shuffle, as a keyBy is in Flink: each ingest partition may receive events from any
other. So a partition's watermark for a topic is the least bound over that topic's
partitions held here, and over the copies sent round to it and not read back yet. A
copy is then never behind its home partition's watermark, however long its trip, as
long as one worker holds both partitions; a copy from another worker's partition can
be, and is applied late (``behind_watermark`` on ``/stats/``).

``EntityClocks``: an entity partition's sources are the ingest partitions, whose bundles
announce their frontier (``agents/rekey.py``). A re-key message is acknowledged once all
its items are applied.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import faust
from faust.types import TP, EventT, Message

from riskstream.agents.event_time import NEVER, EventClock
from riskstream.agents.partitioning import rerouted_from
from riskstream.agents.stage_timing import Durations
from riskstream.streams.kafka_view import broker_connected

Item = TypeVar("Item")


@dataclass(slots=True)
class _Progress:
    newest_ms: int = NEVER
    next_offset: int = 0
    last_arrival: float = 0.0
    live: bool = False  # its newest event came within the delay of its own time


class InputClocks(Generic[Item]):
    def __init__(
        self,
        app: faust.App,
        topics: Iterable[str],
        delay_ms: int,
        idle_s: float,
        waits: Durations | None = None,
    ):
        self.app = app
        self.waits = waits
        self.topics = list(topics)
        self.delay_ms = delay_ms
        self.idle_s = idle_s
        self.clocks: dict[int, EventClock[Item]] = {}
        self._progress: dict[TP, _Progress] = {}
        self._since: dict[int, float] = {}  # when each clock started listening
        # Copies sent round to a partition here and not read back: origin -> event time.
        self._copies: dict[TP, dict[bytes, int]] = {}
        self._connected_since: float | None = None

    def clock(self, partition: int) -> EventClock[Item]:
        clock = self.clocks.get(partition)
        if clock is None:
            clock = self.clocks[partition] = EventClock(self.topics, self.waits)
            self._since[partition] = time.monotonic()
        return clock

    def sent(self, topic: str, partition: int, origin: bytes, ts_ms: int) -> None:
        """A copy of an event (``ts_ms``) was sent round to ``partition``: its watermark
        waits for it, if this worker reads that partition."""
        if partition in self.clocks:
            self._copies.setdefault(TP(topic, partition), {})[origin] = ts_ms

    def lost(self, topic: str, partition: int, origin: bytes) -> None:
        """The copy will not come (the broker refused it: it was dead-lettered)."""
        self._copies.get(TP(topic, partition), {}).pop(origin, None)

    def saw(self, message: Message, ts_ms: int | None) -> None:
        """A message of a source arrived (``ts_ms``: its event time, if it had one)."""
        copies = self._copies.get(message.tp)
        if copies:
            origin = rerouted_from(message.headers)
            if origin is not None:
                copies.pop(origin, None)
        progress = self._progress.get(message.tp)
        if progress is None:
            progress = self._progress[message.tp] = _Progress()
        progress.next_offset = max(progress.next_offset, message.offset + 1)
        progress.last_arrival = time.monotonic()
        if ts_ms is not None and ts_ms > progress.newest_ms:
            progress.newest_ms = ts_ms
            progress.live = ts_ms >= time.time() * 1000 - self.delay_ms

    def refresh(self, partition: int) -> EventClock[Item]:
        """The partition's clock with its sources' bounds and idleness brought up to now:
        for each topic, the least over that topic's partitions held here (any of them
        may send an event round to this one) and the copies on their way to it."""
        clock = self.clock(partition)
        now = time.monotonic()
        steady = self._broker_steady(now)
        for topic in self.topics:
            bounds = []
            for held in self.clocks:
                bound, idle = self._source(TP(topic, held), held, now, steady)
                if not idle:
                    bounds.append(bound)
            copies = self._copies.get(TP(topic, partition))
            if copies:
                bounds.append(min(copies.values()))
            clock.bound(topic, min(bounds) if bounds else NEVER, idle=not bounds)
        return clock

    def _broker_steady(self, now: float) -> bool:
        """Whether the consumer has been connected for ``idle_s``: its high-water marks
        are then fresh. A source is never idle while the broker is out of reach, nor
        until it has been back long enough for the next fetches: a stale high-water mark
        would make a topic whose producer kept writing look read to its end."""
        if broker_connected(self.app.consumer) is False:
            self._connected_since = None
            return False
        if self._connected_since is None:
            self._connected_since = now
        return now - self._connected_since >= self.idle_s

    def _source(self, tp: TP, partition: int, now: float, steady: bool) -> tuple[int, bool]:
        """A topic-partition's bound, and whether it is idle (``steady``: the consumer's
        high-water marks are fresh).

        A live source (its events come as they happen: the newest within the delay of
        its own time) that has been read to its end will bring nothing older than the
        clock less the delay, the same promise the delay makes between its events: its
        bound follows the clock at once, without waiting to count as idle. So a sparse
        live topic holds the others back by no more than the delay. Events of the past
        (a backfill, a replayed day) never pass for live and wait for the idleness rule.
        """
        progress = self._progress.get(tp)
        if progress is None:
            position = self._position(tp)
            since = self._since[partition]
            bound = NEVER
        else:
            position = progress.next_offset
            since = progress.last_arrival
            bound = progress.newest_ms - self.delay_ms if progress.newest_ms > NEVER else NEVER
        if not steady or not self._caught_up(tp, position):
            return bound, False
        if progress is not None and progress.live:
            bound = max(bound, int(time.time() * 1000) - self.delay_ms)
        return bound, now - since >= self.idle_s

    def _caught_up(self, tp: TP, position: int | None) -> bool:
        try:
            highwater = self.app.consumer.highwater(tp)
        except Exception:  # not assigned here, or the consumer is between assignments
            return False
        return highwater is not None and position is not None and position >= highwater

    def _position(self, tp: TP) -> int | None:
        """How far ``tp`` has been read here before any of its messages came: to its
        committed offset. (Not the fetcher's position: under a backlog what it fetched
        can wait in Faust's queues behind other topics for longer than ``idle_s``.)"""
        consumer: Any = self.app.consumer
        committed = getattr(consumer, "_committed_offset", {}).get(tp)
        if committed is not None:
            return int(committed)
        # Nothing committed yet (or offset 0): where the fetcher started, as long as
        # it has handed nothing on.
        if getattr(consumer, "_read_offset", {}).get(tp) not in (None, 0):
            return None
        try:  # aiokafka's own position, after the offset reset
            fetcher = consumer._thread._ensure_consumer()
            state = fetcher._subscription.subscription.assignment.state_value(tp)
            if state is not None and state.has_valid_position:
                return int(state.position)
        except Exception:  # not started, not assigned, or another client
            pass
        return None

    def forget(self) -> dict[int, list[Item]]:
        """Every clock dropped (a rebalance: the consumer reads again from the committed
        offsets); returns what each held, which is not applied."""
        held = {partition: clock.drop() for partition, clock in self.clocks.items()}
        self.clocks.clear()
        self._progress.clear()
        self._since.clear()
        self._copies.clear()
        return held


class Tracked:
    """A re-key message whose items are held: done when the last one is applied."""

    __slots__ = ("event", "on_done", "pending")

    def __init__(
        self, event: EventT[Any], pending: int, on_done: Callable[[EventT[Any]], None]
    ) -> None:
        self.event = event
        self.pending = pending
        self.on_done = on_done

    def done(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.on_done(self.event)


class EntityClocks(Generic[Item]):
    def __init__(self, waits: Durations | None = None) -> None:
        self.waits = waits
        self.sources = 0  # the ingest partitions, once known
        self.clocks: dict[int, EventClock[Item]] = {}

    def clock(self, partition: int) -> EventClock[Item]:
        clock = self.clocks.get(partition)
        if clock is None:
            clock = self.clocks[partition] = EventClock(range(self.sources), self.waits)
        return clock

    def forget(self) -> dict[int, list[Item]]:
        held = {partition: clock.drop() for partition, clock in self.clocks.items()}
        self.clocks.clear()
        return held
