"""How far behind a follower is: records, and seconds since it was last at the end."""

from __future__ import annotations

import pytest

from riskstream.streams.freshness import Freshness


class Clock:
    def __init__(self, now_s: float = 1000.0) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def test_a_partition_is_fresh_as_of_the_fetch_that_found_it_caught_up() -> None:
    clock = Clock()
    freshness = Freshness(clock)
    topic = freshness.topic("risk.signals")
    topic.assigned([0, 1])
    topic.observe(0, position=10, highwater=10, polled_ms=999_500)
    topic.observe(1, position=7, highwater=7, polled_ms=999_800)
    assert topic.lag() == 0
    # The oldest partition decides: everything up to 999.5 s is applied.
    assert topic.age_s() == pytest.approx(0.5)


def test_a_partition_behind_ages_from_the_last_time_it_was_caught_up() -> None:
    clock = Clock()
    freshness = Freshness(clock)
    topic = freshness.topic("risk.signals")
    topic.assigned([0])
    topic.observe(0, position=10, highwater=10, polled_ms=1_000_000)
    clock.now_s = 1003.0
    # Newer fetches show records it has not applied: still fresh as of 1000 s only.
    topic.observe(0, position=12, highwater=40, polled_ms=1_002_900)
    assert (topic.lag(), topic.age_s()) == (28, pytest.approx(3.0))
    topic.observe(0, position=40, highwater=40, polled_ms=1_002_950)
    assert (topic.lag(), topic.age_s()) == (0, pytest.approx(0.05))


def test_a_follower_cut_off_from_the_broker_ages_though_it_has_nothing_to_read() -> None:
    clock = Clock()
    topic = Freshness(clock).topic("risk.rules")
    topic.assigned([0])
    topic.observe(0, position=3, highwater=3, polled_ms=1_000_000)
    clock.now_s = 1010.0  # no fetch answered since: the poll time does not move
    topic.observe(0, position=3, highwater=3, polled_ms=1_000_000)
    assert topic.age_s() == pytest.approx(10.0)


def test_before_any_fetch_a_topic_ages_from_when_it_was_first_followed() -> None:
    clock = Clock()
    freshness = Freshness(clock)
    topic = freshness.topic("risk.penalties")
    clock.now_s = 1002.0
    assert topic.age_s() == pytest.approx(2.0)  # no partition assigned yet
    topic.assigned([0])
    topic.observe(0, position=0, highwater=None, polled_ms=None)
    clock.now_s = 1004.0
    assert topic.age_s() == pytest.approx(4.0)


def test_a_reconnected_follower_is_as_fresh_as_when_it_was_cut_off() -> None:
    clock = Clock()
    topic = Freshness(clock).topic("risk.signals")
    topic.assigned([0, 1])
    topic.observe(0, position=5, highwater=5, polled_ms=1_000_000)
    topic.observe(1, position=5, highwater=5, polled_ms=1_000_000)
    clock.now_s = 1020.0
    topic.assigned([0, 1, 2])  # reconnected, and the topic grew a partition
    assert topic.age_s() == pytest.approx(20.0)


def test_the_stalest_topic_is_named_with_its_age() -> None:
    clock = Clock()
    freshness = Freshness(clock)
    assert freshness.stalest() == (None, 0.0)
    for name, polled_ms in (("a", 999_900), ("b", 996_000), ("c", 999_000)):
        topic = freshness.topic(name)
        topic.assigned([0])
        topic.observe(0, position=1, highwater=1, polled_ms=polled_ms)
    name, age_s = freshness.stalest()
    assert (name, age_s) == ("b", pytest.approx(4.0))
    report = freshness.report()
    assert report["b"] == {"lag": 0, "age_s": 4.0}
    assert freshness.topic("b") is freshness.topics["b"]  # asked again: the same tracker


def test_the_age_follows_each_observation_as_time_passes() -> None:
    # The oldest time is kept between observations: each one must still move it.
    clock = Clock()
    freshness = Freshness(clock)
    topic = freshness.topic("a")
    topic.assigned([0, 1])
    topic.observe(0, position=1, highwater=1, polled_ms=999_000)
    topic.observe(1, position=1, highwater=1, polled_ms=999_500)
    assert freshness.stalest() == ("a", pytest.approx(1.0))
    clock.now_s = 1002.0
    assert freshness.stalest() == ("a", pytest.approx(3.0))
    topic.observe(0, position=2, highwater=2, polled_ms=1_001_800)
    assert freshness.stalest() == ("a", pytest.approx(2.5)), "partition 1 is now the oldest"
    topic.observe(1, position=2, highwater=5, polled_ms=1_001_900)  # behind: stays old
    assert topic.age_s() == pytest.approx(2.5)
    topic.observe(1, position=5, highwater=5, polled_ms=1_001_950)
    assert topic.age_s() == pytest.approx(0.2)
    topic.assigned([2])  # a new partition, never caught up: as old as the follower
    assert topic.age_s() == pytest.approx(2.0)
