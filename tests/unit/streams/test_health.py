"""/health/'s state machine: not ready while the broker is away or a partition is stuck,
ready again after."""

from __future__ import annotations

from types import SimpleNamespace

from faust.types import TP

from riskstream.streams.health import (
    BROKER_UNREACHABLE,
    PARTITION_STALLED,
    HealthMonitor,
    KafkaView,
    PartitionView,
)
from riskstream.streams.kafka_view import kafka_view


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def monitor(clock: Clock) -> HealthMonitor:
    return HealthMonitor(broker_timeout_s=5.0, stall_timeout_s=30.0, clock=clock)


def part(highwater: int | None, committed: int | None, read: bool = True) -> PartitionView:
    return PartitionView("in/0", highwater, committed, read)


def test_the_broker_away_longer_than_the_timeout_makes_it_not_ready_until_it_is_back() -> None:
    clock = Clock()
    health = monitor(clock)
    assert health.observe(KafkaView(True)).healthy
    assert health.observe(KafkaView(False)).healthy  # a blip is not an outage
    clock.now += 4.9
    assert health.observe(KafkaView(False)).healthy
    clock.now += 0.2
    verdict = health.observe(KafkaView(False))
    assert (verdict.healthy, verdict.reason) == (False, BROKER_UNREACHABLE)
    assert "5 s" in verdict.detail
    assert health.verdict == verdict  # what /health/ reads
    assert health.observe(KafkaView(True)).healthy
    clock.now += 1
    assert health.observe(KafkaView(False)).healthy, "the timeout starts afresh"


def test_cannot_tell_is_not_unhealthy() -> None:
    clock = Clock()
    health = monitor(clock)
    health.observe(KafkaView(None))
    clock.now += 60
    assert health.observe(KafkaView(None)).healthy


def test_a_partition_with_lag_and_no_progress_is_stalled_until_it_moves() -> None:
    clock = Clock()
    health = monitor(clock)
    assert health.observe(KafkaView(True, (part(100, 60),))).healthy
    clock.now += 29
    assert health.observe(KafkaView(True, (part(120, 60),))).healthy
    clock.now += 2
    verdict = health.observe(KafkaView(True, (part(120, 60),)))
    assert (verdict.healthy, verdict.reason) == (False, PARTITION_STALLED)
    assert "in/0 (lag 60, 31 s)" in verdict.detail
    assert health.observe(KafkaView(True, (part(120, 61),))).healthy  # progress
    clock.now += 29
    assert health.observe(KafkaView(True, (part(120, 61),))).healthy


def test_a_caught_up_or_idle_partition_is_never_stalled() -> None:
    clock = Clock()
    health = monitor(clock)
    for _ in range(5):
        clock.now += 60
        assert health.observe(KafkaView(True, (part(100, 100), part(None, 5)))).healthy
        # Never committed, nothing read: retention may have emptied it.
        assert health.observe(KafkaView(True, (part(100, None, read=False),))).healthy


def test_new_work_after_idling_gets_the_whole_timeout() -> None:
    clock = Clock()
    health = monitor(clock)
    health.observe(KafkaView(True, (part(100, 100),)))
    clock.now += 3600
    assert health.observe(KafkaView(True, (part(101, 100),))).healthy
    clock.now += 29
    assert health.observe(KafkaView(True, (part(101, 100),))).healthy


def test_read_but_never_committed_is_lag() -> None:
    clock = Clock()
    health = monitor(clock)
    health.observe(KafkaView(True, (part(None, None, read=True),)))
    clock.now += 31
    assert health.observe(KafkaView(True, (part(None, None, read=True),))).reason == (
        PARTITION_STALLED
    )


def test_a_revoked_partition_is_forgotten() -> None:
    clock = Clock()
    health = monitor(clock)
    health.observe(KafkaView(True, (part(100, 60),)))
    clock.now += 20
    health.observe(KafkaView(True, ()))
    clock.now += 20
    assert health.observe(KafkaView(True, (part(100, 60),))).healthy


class Connection:
    def __init__(self, up: bool) -> None:
        self.up = up

    def connected(self) -> bool:
        return self.up


class Consumer:
    """Faust's consumer as far as ``kafka_view`` reads it."""

    def __init__(self, connections: list[Connection]) -> None:
        client = SimpleNamespace(_conns={n: c for n, c in enumerate(connections)})
        self._thread = SimpleNamespace(_consumer=SimpleNamespace(_client=client))
        self._committed_offset = {TP("in", 1): 5}
        self._read_offset: dict[TP, int] = {}
        self.tps = [TP("in", 1), TP("changelog", 0)]

    def assignment(self) -> list[TP]:
        return self.tps

    def highwater(self, tp: TP) -> int:
        return 9


def test_the_view_reads_connections_and_only_the_watched_topics() -> None:
    both = Consumer([Connection(False), Connection(True)])
    up = kafka_view(SimpleNamespace(_consumer=both), ["in"])
    assert up.broker_connected is True
    assert up.partitions == (PartitionView("in/1", 9, 5, False),)
    down = kafka_view(SimpleNamespace(_consumer=Consumer([Connection(False)])), ["in"])
    assert down.broker_connected is False
    assert kafka_view(SimpleNamespace(_consumer=Consumer([])), ["in"]).broker_connected is False
    assert kafka_view(SimpleNamespace(_consumer=None), ["in"]) == KafkaView(None)
    assert kafka_view(SimpleNamespace(_consumer=SimpleNamespace()), ["in"]).broker_connected is None
