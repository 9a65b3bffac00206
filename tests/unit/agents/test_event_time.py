"""Held events come out in (time, id) order once every source that is not idle has
passed them, whatever order they arrived in."""

from __future__ import annotations

import random

from riskstream.agents.event_time import NEVER, EventClock


def test_events_come_out_in_time_then_id_order_whatever_their_arrival() -> None:
    events = [(ts, f"e{n}") for n, ts in enumerate([5, 1, 3, 3, 9, 2, 3])]
    outputs = []
    for seed in range(5):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        clock: EventClock[str] = EventClock(["only"])
        for ts, event_id in shuffled:
            clock.hold(ts, event_id, event_id)
        clock.bound("only", 100)
        outputs.append(clock.release())
    assert outputs[0] == ["e1", "e5", "e2", "e3", "e6", "e0", "e4"]
    assert all(output == outputs[0] for output in outputs)


def test_an_early_source_does_not_make_a_slow_one_late() -> None:
    clock: EventClock[str] = EventClock(["transactions", "feedback"])
    clock.hold(100, "fb", "fb")
    clock.bound("feedback", 100)
    assert clock.release() == []  # the transactions have told nothing yet
    clock.hold(10, "tx1", "tx1")
    clock.hold(20, "tx2", "tx2")
    clock.bound("transactions", 20)
    assert clock.release() == ["tx1"]  # 20 itself may still come from the transactions
    assert clock.frontier_ms == 20
    assert clock.hold(20, "tx3", "tx3")  # not late
    clock.bound("transactions", 200)
    assert clock.release() == ["tx2", "tx3"]  # the feedback's bound (100) holds "fb" back
    clock.bound("feedback", 150)
    assert clock.release() == ["fb"]


def test_an_idle_source_holds_nothing_back_and_all_idle_releases_all() -> None:
    clock: EventClock[str] = EventClock(["a", "b"])
    clock.hold(50, "x", "x")
    clock.hold(70, "y", "y")
    clock.bound("a", 60)
    assert clock.release() == []
    clock.bound("b", NEVER, idle=True)
    assert clock.release() == ["x"]
    clock.bound("a", 60, idle=True)
    assert clock.all_idle
    assert clock.release() == ["y"]
    assert clock.frontier_ms == 71


def test_a_late_event_is_counted_and_released_at_once() -> None:
    clock: EventClock[str] = EventClock(["a"])
    clock.bound("a", 100)
    assert clock.release() == []
    assert not clock.hold(40, "late", "late")
    assert clock.late == 1
    assert clock.release() == ["late"]


def test_past_the_cap_the_oldest_go_without_waiting() -> None:
    clock: EventClock[int] = EventClock(["a", "b"])
    for ts in range(10):
        clock.hold(ts, f"e{ts}", ts)
    clock.bound("a", 100)  # "b" lags: nothing is final
    assert clock.release(at_most=4) == [0, 1, 2, 3, 4, 5]
    assert len(clock) == 4
    assert sorted(clock.drop()) == [6, 7, 8, 9]
    assert len(clock) == 0


def test_a_bound_never_goes_back() -> None:
    clock: EventClock[str] = EventClock(["a"])
    clock.bound("a", 100)
    clock.bound("a", 10)
    assert clock.watermark() == 100
