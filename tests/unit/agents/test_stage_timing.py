"""The stage timings shown on /stats/: quantiles of the recent durations, and how long the
event clock held each item it released."""

from __future__ import annotations

import time

from riskstream.agents.event_time import EventClock
from riskstream.agents.stage_timing import Durations, StageTimings


def test_quantiles_of_the_recent_durations_in_ms() -> None:
    durations = Durations(size=100)
    durations.extend(i / 1000 for i in range(1, 201))  # 1..200 ms: the first 100 drop out
    assert durations.summary() == {
        "samples": 100,
        "p50_ms": 150.0,
        "p99_ms": 199.0,
        "max_ms": 200.0,
    }


def test_no_samples_says_so() -> None:
    assert StageTimings().as_dict()["entity_held"] == {"samples": 0}


def test_the_clock_tells_how_long_each_released_item_was_held() -> None:
    waits = Durations()
    clock: EventClock[str] = EventClock(["a"], waits)
    clock.hold(10, "e1", "first")
    time.sleep(0.05)
    clock.hold(20, "e2", "second")
    clock.bound("a", 15)
    assert clock.release() == ["first"]
    assert waits.summary()["max_ms"] >= 50
    clock.bound("a", 25)
    clock.release()
    assert waits.summary()["samples"] == 2
