"""A topic given more partitions while followed: the new ones are read without a restart,
the old ones not read again, whether a consumer follows each partition (the scorer's
signals and account state) or one follows the whole topic (its decisions read back, the
rules, penalties, models and profiles)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewPartitions, NewTopic

from riskstream.streams.follow import follow_partitions, follow_topic
from riskstream.streams.freshness import Freshness, TopicFreshness

pytestmark = pytest.mark.integration

# (connection, topic, apply, ready, stop, freshness) -> the follower
Follower = Callable[..., Coroutine[Any, Any, None]]


async def grown_while_followed(bootstrap: str, follower: Follower) -> list[tuple[int, bytes]]:
    """What a follower read of a topic of 2 partitions given 2 more while it ran: a
    record before, then one on a new partition and one on an old one."""
    topic = f"it-grow-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        producer.send(topic, b"before", partition=1).get(timeout=30)
        seen: list[tuple[int, bytes]] = []
        ready, stop = asyncio.Event(), asyncio.Event()
        following = asyncio.create_task(follower(
            {"bootstrap_servers": bootstrap}, topic,
            lambda record: seen.append((record.partition, record.value)), ready, stop,
        ))  # fmt: skip
        await asyncio.wait_for(ready.wait(), 60)
        assert seen == [(1, b"before")]
        admin.create_partitions({topic: NewPartitions(total_count=4)})
        # A fresh producer: the first one's metadata knows two partitions for minutes.
        fresh = KafkaProducer(bootstrap_servers=bootstrap)
        try:
            fresh.send(topic, b"after", partition=3).get(timeout=30)
            fresh.send(topic, b"later", partition=1).get(timeout=30)
        finally:
            fresh.close()
        for _ in range(400):  # the recount every 0.5 s, then the new partition's start
            if {(3, b"after"), (1, b"later")} <= set(seen):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(following, 30)
        return seen
    finally:
        producer.close()
        admin.delete_topics([topic])
        admin.close()


async def test_partitions_added_while_followed_each_apart_are_read(kafka_bootstrap: str) -> None:
    async def follower(*args: Any) -> None:
        *head, stop = args
        await follow_partitions(*head, stop=stop, recheck_s=0.5)

    seen = await grown_while_followed(kafka_bootstrap, follower)
    assert sorted(seen) == [(1, b"before"), (1, b"later"), (3, b"after")]


async def test_partitions_added_to_a_topic_followed_whole_are_read_from_their_start(
    kafka_bootstrap: str,
) -> None:
    tracked: list[TopicFreshness] = []

    async def follower(connection: Any, topic: str, *args: Any) -> None:
        *head, stop = args
        tracked.append(Freshness().topic(topic))
        await follow_topic(connection, topic, *head, stop=stop, recheck_s=0.5, freshness=tracked[0])

    seen = await grown_while_followed(kafka_bootstrap, follower)
    # The new partition from its start; the old one on from where it was, not again.
    assert sorted(seen) == [(1, b"before"), (1, b"later"), (3, b"after")]
    assert sorted(tracked[0].partitions) == [0, 1, 2, 3], "the new ones age with the rest"
