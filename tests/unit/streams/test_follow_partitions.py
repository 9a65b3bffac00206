"""A topic followed a partition per consumer: one follower each, ready once all are."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from riskstream.streams import follow


async def test_one_follower_per_partition_and_ready_once_every_one_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: dict[int, asyncio.Event] = {}

    async def count(connection: Any, topic: str, stop: Any) -> int:
        return 3

    async def follow_one(
        connection: Any, topic: str, apply: Any, ready: asyncio.Event, **options: Any
    ) -> None:
        assert options["since_ms"] is None and options["tail"] == 5
        started[options["partition"]] = ready
        await asyncio.Event().wait()  # follows for ever

    monkeypatch.setattr(follow, "_partition_count", count)
    monkeypatch.setattr(follow, "follow_topic", follow_one)
    ready = asyncio.Event()
    task = asyncio.create_task(
        follow.follow_partitions({}, "risk.decisions", lambda record: None, ready, tail=5)
    )
    try:
        await asyncio.sleep(0.01)
        assert sorted(started) == [0, 1, 2]
        started[0].set()
        started[2].set()
        await asyncio.sleep(0.01)
        assert not ready.is_set()  # partition 1 is still catching up
        started[1].set()
        await asyncio.wait_for(ready.wait(), 1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_stopped_before_the_topic_is_seen_it_follows_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def count(connection: Any, topic: str, stop: Any) -> int:
        return 0

    monkeypatch.setattr(follow, "_partition_count", count)
    ready = asyncio.Event()
    await follow.follow_partitions({}, "risk.decisions", lambda record: None, ready)
    assert not ready.is_set()


async def test_partitions_added_later_are_followed_from_their_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts = iter([2, 2, 4])
    started: dict[int, dict[str, Any]] = {}

    async def count(connection: Any, topic: str, stop: Any) -> int:
        return next(counts, 4)

    async def follow_one(
        connection: Any, topic: str, apply: Any, ready: asyncio.Event, **options: Any
    ) -> None:
        started[options["partition"]] = options
        ready.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(follow, "_partition_count", count)
    monkeypatch.setattr(follow, "follow_topic", follow_one)
    ready = asyncio.Event()
    task = asyncio.create_task(
        follow.follow_partitions(
            {}, "risk.decisions", lambda record: None, ready, since_ms=lambda: 7, recheck_s=0.01
        )
    )
    try:
        await asyncio.wait_for(ready.wait(), 1)
        for _ in range(100):
            if len(started) == 4:
                break
            await asyncio.sleep(0.01)
        assert sorted(started) == [0, 1, 2, 3]  # the two new ones too, once each
        assert all(options["since_ms"]() == 7 for options in started.values())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_stop_ends_every_follower_and_the_recount(monkeypatch: pytest.MonkeyPatch) -> None:
    async def count(connection: Any, topic: str, stop: Any) -> int:
        return 2

    async def follow_one(
        connection: Any, topic: str, apply: Any, ready: asyncio.Event, **options: Any
    ) -> None:
        ready.set()
        await options["stop"].wait()

    monkeypatch.setattr(follow, "_partition_count", count)
    monkeypatch.setattr(follow, "follow_topic", follow_one)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        follow.follow_partitions({}, "t", lambda record: None, ready, stop=stop, recheck_s=0.01)
    )
    await asyncio.wait_for(ready.wait(), 1)
    stop.set()
    await asyncio.wait_for(task, 1)  # returns: nothing left running
