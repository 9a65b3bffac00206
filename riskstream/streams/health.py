"""Whether a running worker is doing its job: it reaches the broker, and no partition it
owns is stuck behind work it does not finish.

:class:`HealthMonitor` is fed a :class:`KafkaView` now and then (``kafka_view.py`` reads
one from the consumer) and keeps the verdict ``/health/`` answers with, so the endpoint
itself only reads a field. Two ways to be unhealthy:

- ``broker_unreachable``: the consumer has had no live connection to any broker for
  ``broker_timeout_s``;
- ``partition_stalled``: an assigned input partition has had messages waiting (lag > 0)
  and its committed offset has not moved for ``stall_timeout_s``.

Both clear on the first view without them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

BROKER_UNREACHABLE = "broker_unreachable"
PARTITION_STALLED = "partition_stalled"
MAX_NAMED_PARTITIONS = 8


@dataclass(frozen=True, slots=True)
class PartitionView:
    name: str  # topic/partition
    highwater: int | None  # the log end offset, as last fetched
    committed: int | None  # the next offset to read, as last committed by this worker
    read: bool  # a message of it has reached the stream since it was assigned

    @property
    def lag(self) -> int:
        if self.committed is None:
            # Nothing committed yet: count what was read and not yet committed. (The
            # highwater alone would count messages that retention already deleted.)
            return 1 if self.read else 0
        if self.highwater is None:
            return 0
        return max(self.highwater - self.committed, 0)


@dataclass(frozen=True, slots=True)
class KafkaView:
    broker_connected: bool | None  # None: the consumer is not there to ask
    partitions: tuple[PartitionView, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    healthy: bool
    reason: str = ""
    detail: str = ""


@dataclass(slots=True)
class _Waiting:
    committed: int | None
    since: float


@dataclass
class HealthMonitor:
    broker_timeout_s: float
    stall_timeout_s: float
    clock: Callable[[], float] = time.monotonic
    verdict: Verdict = field(default_factory=lambda: Verdict(healthy=True))
    _unreachable_since: float | None = None
    _waiting: dict[str, _Waiting] = field(default_factory=dict)

    def observe(self, view: KafkaView) -> Verdict:
        now = self.clock()
        self.verdict = self._broker(view, now) or self._stalls(view, now) or Verdict(True)
        return self.verdict

    def _broker(self, view: KafkaView, now: float) -> Verdict | None:
        if view.broker_connected is not False:
            self._unreachable_since = None
            return None
        if self._unreachable_since is None:
            self._unreachable_since = now
        away = now - self._unreachable_since
        if away < self.broker_timeout_s:
            return None
        return Verdict(False, BROKER_UNREACHABLE, f"no connection to the broker for {away:.0f} s")

    def _stalls(self, view: KafkaView, now: float) -> Verdict | None:
        waiting: dict[str, _Waiting] = {}
        stalled: list[str] = []
        for partition in view.partitions:
            if partition.lag == 0:
                continue
            before = self._waiting.get(partition.name)
            if before is None or before.committed != partition.committed:
                before = _Waiting(partition.committed, now)  # new work, or progress
            waiting[partition.name] = before
            still = now - before.since
            if still >= self.stall_timeout_s:
                stalled.append(f"{partition.name} (lag {partition.lag}, {still:.0f} s)")
        self._waiting = waiting  # partitions revoked or caught up are forgotten
        if not stalled:
            return None
        named = ", ".join(stalled[:MAX_NAMED_PARTITIONS])
        more = len(stalled) - MAX_NAMED_PARTITIONS
        return Verdict(
            False,
            PARTITION_STALLED,
            f"no progress on {named}" + (f" and {more} more" if more > 0 else ""),
        )
