"""A topic followed a partition per consumer, given more partitions while followed: the
new ones are read without a restart (the scorer's decision and account-state readers)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewPartitions, NewTopic

from riskstream.streams.follow import follow_partitions

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
