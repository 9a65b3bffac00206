"""The ingest stage's event clocks: a partition's watermark waits for every partition held
here (any may send an event round to it) and for the copies on their way to it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from faust.types import TP

from riskstream.agents.event_time import ALWAYS
from riskstream.agents.partitioning import REROUTED_HEADER
from riskstream.agents.stage_clocks import InputClocks

TOPIC = "payments.transactions"
DELAY_MS = 1_000


@dataclass
class FakeConsumer:
    highwaters: dict[TP, int] = field(default_factory=dict)
    _committed_offset: dict[TP, int] = field(default_factory=dict)

    def highwater(self, tp: TP) -> int:
        return self.highwaters.get(tp, 10**9)  # far ahead: nothing is caught up


@dataclass
class Message:
    tp: TP
    offset: int
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def clocks(partitions: int = 2, idle_s: float = 3600.0) -> tuple[InputClocks[Any], FakeConsumer]:
    consumer = FakeConsumer()
    app: Any = SimpleNamespace(consumer=consumer)
    made: InputClocks[Any] = InputClocks(app, [TOPIC], delay_ms=DELAY_MS, idle_s=idle_s)
    for partition in range(partitions):
        made.clock(partition)
    return made, consumer


def arrive(
    made: InputClocks[Any], partition: int, offset: int, ts_ms: int, **headers: bytes
) -> None:
    items = [(REROUTED_HEADER, value) for value in headers.values()]
    message: Any = Message(TP(TOPIC, partition), offset, items)
    made.saw(message, ts_ms)


def test_a_partition_waits_for_every_partition_held_here() -> None:
    made, _ = clocks()
    arrive(made, 0, 0, 50_000)
    arrive(made, 1, 0, 10_000)  # partition 1 is behind: it may still send one round to 0
    assert made.refresh(0).watermark() == 10_000 - DELAY_MS
    arrive(made, 1, 1, 60_000)
    assert made.refresh(0).watermark() == 50_000 - DELAY_MS


def test_a_copy_on_its_way_holds_its_home_partition_back() -> None:
    made, _ = clocks()
    arrive(made, 0, 0, 20_000)
    made.sent(TOPIC, 1, b"t/0/0", 20_000)  # partition 0 sent its event round to 1
    arrive(made, 0, 1, 90_000)
    arrive(made, 1, 0, 90_000)
    assert made.refresh(1).watermark() == 20_000
    assert made.refresh(1).hold(20_000, "e1", "copy"), "the copy is not behind"
    arrive(made, 1, 1, 20_000, origin=b"t/0/0")  # the copy arrives
    assert made.refresh(1).watermark() == 90_000 - DELAY_MS


def test_a_lost_copy_is_not_waited_for() -> None:
    made, _ = clocks()
    made.sent(TOPIC, 1, b"t/0/7", 5_000)
    arrive(made, 0, 0, 90_000)
    arrive(made, 1, 0, 90_000)
    assert made.refresh(1).watermark() == 5_000
    made.lost(TOPIC, 1, b"t/0/7")
    assert made.refresh(1).watermark() == 90_000 - DELAY_MS


def test_a_copy_for_another_workers_partition_is_not_waited_for() -> None:
    made, _ = clocks(partitions=1)
    made.sent(TOPIC, 5, b"t/0/0", 5_000)  # partition 5 is not held here
    arrive(made, 0, 0, 90_000)
    assert made.refresh(0).watermark() == 90_000 - DELAY_MS


def test_an_idle_partition_holds_nobody_back() -> None:
    made, consumer = clocks(idle_s=0.0)
    arrive(made, 0, 0, 90_000)
    arrive(made, 1, 0, 10_000)
    consumer.highwaters[TP(TOPIC, 0)] = 5  # partition 0 has more to read
    consumer.highwaters[TP(TOPIC, 1)] = 1  # partition 1 has read all there is
    assert made.refresh(0).watermark() == 90_000 - DELAY_MS
    consumer.highwaters[TP(TOPIC, 0)] = 1
    assert made.refresh(0).watermark() == ALWAYS


def test_forget_drops_the_copies_too() -> None:
    made, _ = clocks()
    made.sent(TOPIC, 1, b"t/0/0", 5_000)
    made.forget()
    made.clock(0)
    made.clock(1)
    arrive(made, 0, 0, 90_000)
    arrive(made, 1, 0, 90_000)
    assert made.refresh(1).watermark() == 90_000 - DELAY_MS


@dataclass
class Connection:
    up: bool

    def connected(self) -> bool:
        return self.up


def test_no_source_is_idle_while_the_broker_is_away_nor_just_after() -> None:
    made, consumer = clocks(partitions=1, idle_s=0.2)
    link = Connection(up=False)
    consumer._thread = SimpleNamespace(  # type: ignore[attr-defined]
        _consumer=SimpleNamespace(_client=SimpleNamespace(_conns={1: link}))
    )
    arrive(made, 0, 0, 90_000)
    consumer.highwaters[TP(TOPIC, 0)] = 1  # read to the end, as last fetched
    time.sleep(0.3)
    assert made.refresh(0).watermark() == 90_000 - DELAY_MS, "the broker is away"
    link.up = True
    assert made.refresh(0).watermark() == 90_000 - DELAY_MS, "back, but not for long"
    time.sleep(0.3)
    assert made.refresh(0).watermark() == ALWAYS


def test_a_live_source_read_to_its_end_follows_the_clock_at_once() -> None:
    made, consumer = clocks(partitions=1)  # idle only after an hour of quiet
    made._connected_since = time.monotonic() - 7_200  # the consumer has been connected
    now_ms = int(time.time() * 1000)
    arrive(made, 0, 0, now_ms - 500)  # a live event, half a second old
    consumer.highwaters[TP(TOPIC, 0)] = 5  # more to read: its newest event bounds it
    assert made.refresh(0).watermark() == now_ms - 500 - DELAY_MS
    time.sleep(0.2)
    consumer.highwaters[TP(TOPIC, 0)] = 1  # read to its end
    assert made.refresh(0).watermark() >= now_ms + 200 - DELAY_MS


def test_a_source_of_past_events_waits_for_the_idleness_rule() -> None:
    made, consumer = clocks(partitions=1)
    made._connected_since = time.monotonic() - 7_200
    day_ago_ms = int(time.time() * 1000) - 86_400_000
    arrive(made, 0, 0, day_ago_ms)
    consumer.highwaters[TP(TOPIC, 0)] = 1  # read to its end, but not quiet for an hour
    assert made.refresh(0).watermark() == day_ago_ms - DELAY_MS
