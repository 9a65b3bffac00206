"""Event time: which held events are final, whatever order their topics arrive in.

A stage partition has several sources: an ingest partition reads three input topics, an
entity partition reads the bundles of every ingest partition. Each source gives a
*bound*: no event it delivers later is older, unless it is late. For an input
topic-partition the bound is its newest event time less the watermark delay (the
disorder allowed within one topic); for an ingest partition it is the frontier it
announces in its bundles. The stage's watermark is the least bound over the sources
that are not idle, so an early topic never makes a slow topic's events late. Held events
older than the watermark are final: they are released in (time, id) order, the order
replay applies events in, and results do not depend on the order of arrival.

An idle source (nothing to read for a while: ``streams/settings.py``'s
``idle_source_s``) does not hold the watermark back; when every source is idle, every
held event is final. An event older than the frontier (what has been released) is late:
it is released at once, still applied within its rules' lateness, but in arrival order.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from riskstream.agents.stage_timing import Durations

NEVER = -(2**63)  # a bound no event is older than: the source has told nothing yet
ALWAYS = 2**63  # the watermark when every source is idle
Item = TypeVar("Item")


@dataclass(slots=True)
class Source:
    bound_ms: int = NEVER
    idle: bool = False


@dataclass(order=True, slots=True)
class _Held(Generic[Item]):
    ts_ms: int
    event_id: str
    seq: int  # copies of one event keep their order of arrival
    item: Item = field(compare=False)
    since: float = field(compare=False, default=0.0)  # when it came (monotonic)


class EventClock(Generic[Item]):
    """The events of one stage partition held until their time is final."""

    def __init__(self, sources: Iterable[Hashable], waits: Durations | None = None) -> None:
        self.sources: dict[Hashable, Source] = {source: Source() for source in sources}
        self.frontier_ms = NEVER  # every event older than this has been released
        self.late = 0
        self.waits = waits  # how long each released item was held
        self._held: list[_Held[Item]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, ts_ms: int, event_id: str, item: Item) -> bool:
        """Holds ``item`` until its time is final; False when it is late already (it is
        released by the next ``release``)."""
        held = _Held(ts_ms, event_id, next(self._seq), item, time.monotonic())
        heapq.heappush(self._held, held)
        if ts_ms < self.frontier_ms:
            self.late += 1
            return False
        return True

    def bound(self, source: Hashable, bound_ms: int, *, idle: bool = False) -> None:
        """What ``source`` now promises; a bound never goes back."""
        known = self.sources.setdefault(source, Source())
        known.bound_ms = max(known.bound_ms, bound_ms)
        known.idle = idle

    def watermark(self) -> int:
        bounds = [source.bound_ms for source in self.sources.values() if not source.idle]
        return min(bounds) if bounds else ALWAYS

    @property
    def all_idle(self) -> bool:
        return all(source.idle for source in self.sources.values())

    def release(self, *, at_most: int | None = None) -> list[Item]:
        """The held items that are final, in (time, id) order. ``at_most`` bounds the
        memory: past it the oldest go anyway, before a lagging source is heard from."""
        watermark = self.watermark()
        held = self._held
        out: list[Item] = []
        now = time.monotonic()
        waits = self.waits
        while held and held[0].ts_ms < watermark:
            last = heapq.heappop(held)
            out.append(last.item)
            if waits is not None:
                waits.add(now - last.since)
            if watermark == ALWAYS:
                self.frontier_ms = max(self.frontier_ms, last.ts_ms + 1)
        if watermark != ALWAYS:
            self.frontier_ms = max(self.frontier_ms, watermark)
        if at_most is not None:
            while len(held) > at_most:
                last = heapq.heappop(held)
                out.append(last.item)
                if waits is not None:
                    waits.add(now - last.since)
                self.frontier_ms = max(self.frontier_ms, last.ts_ms)
        return out

    def drop(self) -> list[Item]:
        """Every held item, forgotten (its partition was taken away): not applied."""
        items = [held.item for held in self._held]
        self._held.clear()
        return items
