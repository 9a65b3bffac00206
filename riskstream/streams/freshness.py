"""How far behind the topics a process follows it is: in records, and in seconds.

A follower (``streams/follow.py``) reports, after each poll, where it is in each
partition (its position: the next offset it will apply) and what the broker last told
it (the high watermark, and when: aiokafka's ``highwater`` and ``last_poll_timestamp``,
updated by every fetch response, an empty one too). A partition whose position has
reached the high watermark of a fetch answered at time T holds everything the topic
held at T: it is fresh as of T. One still behind stays fresh as of the last time it
was caught up. The age of a topic is now minus the oldest of its partitions' T; the
process's age, the oldest of its topics'.

A broker that stops answering stops moving T, so a follower cut off from it ages too,
though it has nothing left to read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Clock = Callable[[], float]  # wall time, seconds (aiokafka's poll times are wall time)


@dataclass(slots=True)
class PartitionPlace:
    behind: int = 0  # records between the position and the high watermark
    fresh_as_of_s: float | None = None  # None: not caught up since it was assigned


@dataclass(slots=True)
class TopicFreshness:
    """One followed topic: where its follower stands in each partition."""

    name: str
    clock: Clock
    started_s: float
    partitions: dict[int, PartitionPlace] = field(default_factory=dict)
    # The oldest of the partitions' times, kept until a partition moves: every score
    # request asks for the age, a follower reports a few times a second.
    _oldest_s: float | None = None

    def assigned(self, partitions: Iterable[int]) -> None:
        """A follower (re)started on ``partitions`` (all of the topic's, or one of several
        followers of it, one each). What was known of a partition stays: a follower that
        reconnects is as fresh as it was when it was cut off."""
        for partition in partitions:
            self.partitions.setdefault(partition, PartitionPlace())
        self._oldest_s = None

    def observe(
        self, partition: int, position: int, highwater: int | None, polled_ms: int | None
    ) -> None:
        """After a poll: the follower's ``position`` in ``partition``, and the broker's
        high watermark as of its last fetch answer (``polled_ms``, wall time)."""
        place = self.partitions.setdefault(partition, PartitionPlace())
        self._oldest_s = None
        if highwater is None or polled_ms is None:
            return  # no fetch answered yet: nothing known
        place.behind = max(highwater - position, 0)
        if place.behind == 0:
            place.fresh_as_of_s = polled_ms / 1000

    def lag(self) -> int:
        """Records the follower has still to apply, as of the broker's last word."""
        return sum(place.behind for place in self.partitions.values())

    def age_s(self, now_s: float | None = None) -> float:
        """Seconds since this topic was last known to be applied to its end (since the
        follower started, if it never was)."""
        now_s = self.clock() if now_s is None else now_s
        return max(now_s - self.oldest_s(), 0.0)

    def oldest_s(self) -> float:
        """When this topic was last known to be applied to its end (when the follower
        started, if it never was)."""
        oldest = self._oldest_s
        if oldest is None:
            oldest = self._oldest_s = min(
                (
                    self.started_s if place.fresh_as_of_s is None else place.fresh_as_of_s
                    for place in self.partitions.values()
                ),
                default=self.started_s,
            )
        return oldest


class Freshness:
    """The followed topics of one process."""

    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        self.topics: dict[str, TopicFreshness] = {}

    def topic(self, name: str) -> TopicFreshness:
        """The tracker of ``name``, made on first ask (a follower asks once)."""
        tracked = self.topics.get(name)
        if tracked is None:
            tracked = self.topics[name] = TopicFreshness(name, self.clock, self.clock())
        return tracked

    def stalest(self, now_s: float | None = None) -> tuple[str | None, float]:
        """The topic furthest behind and its age in seconds ((None, 0.0): none followed)."""
        worst: str | None = None
        worst_s = 0.0
        for name, tracked in self.topics.items():
            oldest = tracked.oldest_s()
            if worst is None or oldest < worst_s:
                worst, worst_s = name, oldest
        if worst is None:
            return (None, 0.0)
        now_s = self.clock() if now_s is None else now_s
        return (worst, max(now_s - worst_s, 0.0))

    def report(self, now_s: float | None = None) -> dict[str, dict[str, float | int]]:
        """Per topic: records behind and age in seconds (for ``/stats/``)."""
        now_s = self.clock() if now_s is None else now_s
        return {
            name: {"lag": tracked.lag(), "age_s": round(tracked.age_s(now_s), 3)}
            for name, tracked in sorted(self.topics.items())
        }
