"""Input events wait per partition and go as one batch, acknowledged only after it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import faust.streams

from riskstream.agents.batches import PartitionBatches


@dataclass
class FakeMessage:
    partition: int
    offset: int
    tp: tuple[str, int] = ("t", 0)


@dataclass
class FakeEvent:
    message: FakeMessage
    acked: bool = False

    def ack(self) -> bool:
        self.acked = True
        return True


@dataclass
class FakeConsumer:
    highwaters: dict[tuple[str, int], int] = field(default_factory=dict)

    def highwater(self, tp: tuple[str, int]) -> int | None:
        return self.highwaters.get(tp)


@dataclass
class FakeApp:
    consumer: FakeConsumer = field(default_factory=FakeConsumer)
    rebalancing: bool = False


def event(partition: int, offset: int) -> FakeEvent:
    return FakeEvent(FakeMessage(partition, offset, ("t", partition)))


def batches(
    app: FakeApp, max_events: int = 3, linger_s: float = 10.0
) -> tuple[PartitionBatches, list[tuple[int, list[int], Any]]]:
    seen: list[tuple[int, list[int], Any]] = []

    async def process(partition: int, events: list[Any]) -> None:
        assert not any(item.acked for item in events), "acknowledged before it was applied"
        offsets = [item.message.offset for item in events]
        seen.append((partition, offsets, faust.streams.current_event()))

    return PartitionBatches(app, process, max_events, linger_s), seen  # type: ignore[arg-type]


async def test_a_partition_goes_when_full_with_its_last_event_as_current() -> None:
    app = FakeApp(FakeConsumer({("t", 0): 100, ("t", 1): 100}))
    held, seen = batches(app)
    events = [event(0, 1), event(1, 1), event(0, 2), event(0, 3)]
    for item in events:
        await held.add(item)  # type: ignore[arg-type]
    assert [(partition, offsets) for partition, offsets, _ in seen] == [(0, [1, 2, 3])]
    assert seen[0][2] is events[3], "writes are filed under the batch's own partition"
    assert [item.acked for item in events] == [True, False, True, True]
    assert held.held == 1


async def test_a_caught_up_partition_goes_at_once() -> None:
    app = FakeApp(FakeConsumer({("t", 0): 3}))  # offset 2 is the last one
    held, seen = batches(app, max_events=100)
    await held.add(event(0, 1))  # type: ignore[arg-type]
    assert seen == []
    await held.add(event(0, 2))  # type: ignore[arg-type]
    assert [offsets for _, offsets, _ in seen] == [[1, 2]]


async def test_the_linger_and_a_rebalance_send_what_waits() -> None:
    app = FakeApp(FakeConsumer({("t", 0): 100, ("t", 1): 100}))
    held, seen = batches(app, max_events=100, linger_s=0.02)
    await held.add(event(0, 1))  # type: ignore[arg-type]
    task = asyncio.get_running_loop().create_task(held.linger())
    try:
        await asyncio.sleep(0.06)
        assert [offsets for _, offsets, _ in seen] == [[1]]
        held.linger_s = 60.0
        await held.add(event(1, 5))  # type: ignore[arg-type]
        app.rebalancing = True  # a rebalance waits for every started event
        await asyncio.sleep(0.1)
        assert [offsets for _, offsets, _ in seen] == [[1], [5]]
    finally:
        task.cancel()
    assert faust.streams.current_event() is None, "the current event is only lent"


async def test_a_partition_runs_one_batch_at_a_time() -> None:
    app = FakeApp(FakeConsumer({("t", 0): 100}))
    log: list[str] = []
    release = asyncio.Event()

    async def process(partition: int, events: list[Any]) -> None:
        offsets = [item.message.offset for item in events]
        log.append(f"start {offsets}")
        if offsets == [1]:
            await release.wait()  # the first batch is still writing
        log.append(f"end {offsets}")

    held = PartitionBatches(app, process, 100, 60.0)  # type: ignore[arg-type]
    await held.add(event(0, 1))  # type: ignore[arg-type]
    first = asyncio.get_running_loop().create_task(held.run(0))
    await asyncio.sleep(0.01)
    await held.add(event(0, 2))  # type: ignore[arg-type]
    second = asyncio.get_running_loop().create_task(held.run(0))
    await asyncio.sleep(0.01)
    assert log == ["start [1]"], "the second batch waits for the first"
    release.set()
    await asyncio.gather(first, second)
    assert log == ["start [1]", "end [1]", "start [2]", "end [2]"]
