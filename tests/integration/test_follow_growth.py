"""A topic given more partitions while followed: the new ones are read without a restart,
the old ones not read again, whether a consumer follows each partition (the scorer's
signals and account state) or one follows the whole topic (its decisions read back, the
rules, penalties, models and profiles)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewPartitions, NewTopic

from riskstream.streams.follow import follow_partitions, follow_topic
from riskstream.streams.freshness import Freshness

pytestmark = pytest.mark.integration


async def test_partitions_added_while_followed_are_read(kafka_bootstrap: str) -> None:
    topic = f"it-grow-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        producer.send(topic, b"before", partition=1).get(timeout=30)
        seen: list[tuple[int, bytes]] = []
        ready, stop = asyncio.Event(), asyncio.Event()
        following = asyncio.create_task(follow_partitions(
            {"bootstrap_servers": kafka_bootstrap}, topic,
            lambda record: seen.append((record.partition, record.value)), ready,
            stop=stop, recheck_s=0.5,
        ))  # fmt: skip
        await asyncio.wait_for(ready.wait(), 60)
        assert seen == [(1, b"before")]
        admin.create_partitions({topic: NewPartitions(total_count=4)})
        # A fresh producer: the first one's metadata knows two partitions for minutes.
        fresh = KafkaProducer(bootstrap_servers=kafka_bootstrap)
        try:
            fresh.send(topic, b"after", partition=3).get(timeout=30)
        finally:
            fresh.close()
        for _ in range(400):  # the recount every 0.5 s, then the new reader's start
            if (3, b"after") in seen:
                break
            await asyncio.sleep(0.05)
        assert (3, b"after") in seen
        stop.set()
        await asyncio.wait_for(following, 30)
    finally:
        producer.close()
        admin.delete_topics([topic])
        admin.close()


async def test_partitions_added_to_a_topic_followed_whole_are_read_from_their_start(
    kafka_bootstrap: str,
) -> None:
    topic = f"it-grow-whole-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        producer.send(topic, b"before", partition=1).get(timeout=30)
        seen: list[tuple[int, bytes]] = []
        ready, stop = asyncio.Event(), asyncio.Event()
        tracked = Freshness().topic(topic)
        following = asyncio.create_task(follow_topic(
            {"bootstrap_servers": kafka_bootstrap}, topic,
            lambda record: seen.append((record.partition, record.value)), ready,
            stop=stop, recheck_s=0.5, freshness=tracked,
        ))  # fmt: skip
        await asyncio.wait_for(ready.wait(), 60)
        assert seen == [(1, b"before")]
        assert sorted(tracked.partitions) == [0, 1]
        admin.create_partitions({topic: NewPartitions(total_count=4)})
        fresh = KafkaProducer(bootstrap_servers=kafka_bootstrap)
        try:
            fresh.send(topic, b"after", partition=3).get(timeout=30)
            fresh.send(topic, b"later", partition=1).get(timeout=30)
        finally:
            fresh.close()
        for _ in range(400):
            if {(3, b"after"), (1, b"later")} <= set(seen):
                break
            await asyncio.sleep(0.05)
        # The new partition from its start; the old one on from where it was, not again.
        assert sorted(seen) == [(1, b"before"), (1, b"later"), (3, b"after")]
        assert sorted(tracked.partitions) == [0, 1, 2, 3], "the new ones age with the rest"
        stop.set()
        await asyncio.wait_for(following, 30)
    finally:
        producer.close()
        admin.delete_topics([topic])
        admin.close()
