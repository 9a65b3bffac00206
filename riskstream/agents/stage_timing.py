"""How long events wait in each stage, for ``/stats/``: held until final, then applied.

An event's latency is the watermark delay, the wait for the slowest input (``held``), the
work on its batch (``applied``: from release until its signals and state are written),
and the trip through the re-key topic between the stages. Each kind keeps its last
``SAMPLES`` durations, so the quantiles describe the recent past.

``*_after_final``: by the wall clock, from when an event's time was final (its event
time plus the watermark delay) until its stage had applied it. Meaningful for live
traffic, whose events are dated when they happen; a backlog's are days late by this.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

SAMPLES = 4096


class Durations:
    """The last ``size`` durations of one kind, in seconds; summarised in ms."""

    def __init__(self, size: int = SAMPLES) -> None:
        self._values: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self._values.append(seconds)

    def extend(self, seconds: Iterable[float]) -> None:
        self._values.extend(seconds)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self._values)
        if not ordered:
            return {"samples": 0}

        def at(share: float) -> float:
            return round(ordered[int(share * (len(ordered) - 1))] * 1000, 1)

        return {"samples": len(ordered), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)}


class StageTimings:
    def __init__(self) -> None:
        self.ingest_held = Durations()
        self.ingest_applied = Durations()
        self.entity_held = Durations()
        self.entity_applied = Durations()
        self.ingest_after_final = Durations()
        self.entity_after_final = Durations()
        # From the producer's record timestamp to the stage's batch: the trip through
        # Kafka and the consumer (the producer's clock: same machine, or NTP apart).
        self.ingest_arrival = Durations()
        self.entity_arrival = Durations()

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingest_held": self.ingest_held.summary(),
            "ingest_applied": self.ingest_applied.summary(),
            "entity_held": self.entity_held.summary(),
            "entity_applied": self.entity_applied.summary(),
            "ingest_after_final": self.ingest_after_final.summary(),
            "entity_after_final": self.entity_after_final.summary(),
            "ingest_arrival": self.ingest_arrival.summary(),
            "entity_arrival": self.entity_arrival.summary(),
        }
