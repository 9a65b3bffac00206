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
