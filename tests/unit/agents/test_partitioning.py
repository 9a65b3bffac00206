"""Input messages on their account's murmur2 partition; the others sent there once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from riskstream.agents.partitioning import (
    MISROUTED_REASON,
    REROUTE_FAILED_REASON,
    REROUTED_HEADER,
    PartitionCounts,
    Placement,
    RerouteLog,
    Rerouter,
    murmur2_partition,
    place,
    rerouted_from,
)
from riskstream.agents.stage_output import IngestStats
from riskstream.agents.validation import Rejection

# org.apache.kafka.common.utils.UtilsTest#testMurmur2 (Java client), and librdkafka's
# rdmurmur2.c unit test for "kafka": the signed 32-bit hashes.
JAVA_MURMUR2 = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
    b"kafka": -798503068,
}
TOPIC = "payments.transactions"
PARTITIONS = 4


@pytest.mark.parametrize("partitions", [1, 3, 4, 12, 100])
def test_partition_is_the_java_clients_positive_murmur2_modulo_count(partitions: int) -> None:
    # Utils.toPositive(Utils.murmur2(key)) % numPartitions, from the Java client's hashes.
    for key, java_hash in JAVA_MURMUR2.items():
        assert murmur2_partition(key, partitions) == (java_hash & 0x7FFFFFFF) % partitions


def test_partition_agrees_with_the_python_clients_default_partitioners() -> None:
    everything = list(range(PARTITIONS))
    keys = [f"acct-{n:05d}".encode() for n in range(500)] + ["账户-é".encode()]
    for key in keys:
        home = murmur2_partition(key, PARTITIONS)
        assert home == DefaultPartitioner()(key, everything, everything)
        assert home == (kafka_python_murmur2(key) & 0x7FFFFFFF) % PARTITIONS
    assert {murmur2_partition(key, PARTITIONS) for key in keys} == set(everything)


@pytest.mark.parametrize(
    ("key", "partition", "rerouted", "expected"),
    [
        (b"acct-1", 2, False, Placement.HOME),
        (b"acct-1", 2, True, Placement.HOME),  # a re-routed message that arrived
        (b"acct-1", 0, False, Placement.WRONG_PARTITION),
        (b"someone-else", 2, False, Placement.WRONG_KEY),
        (None, 2, False, Placement.WRONG_KEY),
        (None, 0, False, Placement.WRONG_KEY),
        (b"acct-1", 0, True, Placement.STRANDED),
        (b"someone-else", 2, True, Placement.STRANDED),
    ],
)
def test_placement(key: bytes | None, partition: int, rerouted: bool, expected: Placement) -> None:
    headers = [("traceparent", b"00-abc-01")]
    if rerouted:
        headers.append((REROUTED_HEADER, b"payments.transactions/0/12"))
    got = place(key=key, account_key=b"acct-1", partition=partition, home=2, headers=headers)
    assert got is expected


@dataclass
class Message:
    key: bytes | None
    partition: int
    value: bytes | None = b'{"account_id": "acct"}'
    topic: str = TOPIC
    offset: int = 7
    headers: Any = None


@dataclass
class FakeTopic:
    sent: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False  # the broker refuses what is sent

    async def send(self, **record: Any) -> asyncio.Future[None]:
        self.sent.append(record)
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.refuse:
            delivery.set_exception(RuntimeError("MessageSizeTooLargeError"))
        else:
            delivery.set_result(None)
        return delivery


@dataclass
class Harness:
    rerouter: Rerouter
    topic: FakeTopic
    stats: IngestStats
    letters: list[tuple[Any, Rejection]]
    counts_asked: list[str]


@pytest.fixture
def harness() -> Harness:
    topic, stats = FakeTopic(), IngestStats()
    letters: list[tuple[Any, Rejection]] = []
    counts_asked: list[str] = []

    async def partition_count(name: str) -> int:
        counts_asked.append(name)
        return PARTITIONS

    async def dead_letter(message: Any, rejection: Rejection) -> None:
        letters.append((message, rejection))

    rerouter = Rerouter(partition_count, {TOPIC: topic}, dead_letter, stats)
    return Harness(rerouter, topic, stats, letters, counts_asked)


def placed_account() -> tuple[bytes, int, int]:
    """An account key, its murmur2 partition, and a partition that is not it."""
    key = b"acct-00312"
    right = murmur2_partition(key, PARTITIONS)
    return key, right, (right + 1) % PARTITIONS


async def test_a_message_on_its_accounts_partition_is_applied(harness: Harness) -> None:
    key, right, _ = placed_account()
    assert await harness.rerouter.admit(Message(key, right), key)
    assert harness.topic.sent == []
    assert harness.letters == []
    assert harness.stats.rerouted_partition == harness.stats.rerouted == 0


async def test_right_key_on_another_partition_goes_to_the_murmur2_one(harness: Harness) -> None:
    key, right, wrong = placed_account()
    original = [("traceparent", b"00-abc-01"), ("empty", None)]  # null values are legal
    message = Message(key, wrong, headers=original)
    assert not await harness.rerouter.admit(message, key)
    assert harness.topic.sent == [
        {
            "key": key,
            "value": message.value,
            "partition": right,
            "headers": [*original, (REROUTED_HEADER, f"{TOPIC}/{wrong}/7".encode())],
        }
    ]
    assert harness.stats.rerouted_partition == 1
    assert harness.stats.rerouted == 0
    assert harness.stats.as_dict()["rerouted_partition"] == 1
    assert harness.letters == []


async def test_a_wrong_key_goes_to_its_accounts_partition_under_its_key(harness: Harness) -> None:
    key, right, _ = placed_account()
    assert not await harness.rerouter.admit(Message(b"someone-else", right), key)
    (sent,) = harness.topic.sent
    assert (sent["key"], sent["partition"]) == (key, right)
    assert harness.stats.rerouted == 1
    assert harness.stats.rerouted_partition == 0


async def test_a_rerouted_message_is_applied_where_it_lands(harness: Harness) -> None:
    key, _, wrong = placed_account()
    assert not await harness.rerouter.admit(Message(key, wrong), key)
    (sent,) = harness.topic.sent
    arrived = Message(sent["key"], sent["partition"], sent["value"], headers=sent["headers"])
    assert await harness.rerouter.admit(arrived, key)
    assert len(harness.topic.sent) == 1
    assert harness.letters == []


async def test_a_rerouted_message_still_misplaced_is_dead_lettered_not_sent(
    harness: Harness,
) -> None:
    key, right, wrong = placed_account()
    stranded = Message(key, wrong, headers=[(REROUTED_HEADER, f"{TOPIC}/{right}/3".encode())])
    assert not await harness.rerouter.admit(stranded, key)
    assert harness.topic.sent == []
    ((message, rejection),) = harness.letters
    assert message is stranded
    assert rejection.reason == MISROUTED_REASON
    assert f"{TOPIC}/{right}/3" in rejection.detail
    assert harness.stats.rerouted_partition == harness.stats.rerouted == 0


async def test_partition_counts_are_asked_once_per_topic(harness: Harness) -> None:
    key, right, _ = placed_account()
    for _ in range(50):
        await harness.rerouter.admit(Message(key, right), key)
    assert harness.counts_asked == [TOPIC]


async def test_partition_counts_are_asked_again_after_their_ttl() -> None:
    now = [0.0]
    answers = iter([4, 8])

    async def fetch(topic: str) -> int:
        return next(answers)

    counts = PartitionCounts(fetch, ttl_s=60, clock=lambda: now[0])
    assert await counts.of(TOPIC) == 4
    now[0] = 59.0
    assert await counts.of(TOPIC) == 4
    now[0] = 60.0
    assert await counts.of(TOPIC) == 8


def test_reroutes_are_logged_first_in_full_then_as_a_periodic_summary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    reroutes = RerouteLog(interval_s=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="riskstream.agents.partitioning"):
        for n in range(1000):
            now[0] = n * 0.05  # 50 s of a misconfigured producer
            reroutes.note(Placement.WRONG_PARTITION, TOPIC, f"message {n}")
        assert [record.getMessage().split(".")[0] for record in caplog.records] == ["message 0"]
        reroutes.note(Placement.WRONG_KEY, TOPIC, "keyed wrong")  # another kind: in full
        now[0] = 61.0
        reroutes.note(Placement.WRONG_PARTITION, TOPIC, "message 1000")
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3
    assert lines[1].startswith("keyed wrong")
    assert f"1000 wrong_partition on {TOPIC}" in lines[2]


def test_the_reroute_header_is_found_in_every_form_faust_gives_headers() -> None:
    origin = b"payments.transactions/0/12"
    assert rerouted_from([("a", b"1"), (REROUTED_HEADER, origin)]) == origin
    assert rerouted_from(((REROUTED_HEADER, origin),)) == origin
    assert rerouted_from({REROUTED_HEADER: origin}) == origin
    assert rerouted_from(None) is None
    assert rerouted_from([]) is None


async def test_a_copy_the_broker_refuses_is_dead_lettered_when_settled(
    harness: Harness,
) -> None:
    key, _, wrong = placed_account()
    harness.topic.refuse = True
    message = Message(key, wrong)
    assert not await harness.rerouter.admit(message, key)
    assert harness.letters == []  # not known yet: the original is not acknowledged yet
    await harness.rerouter.settle()
    [(letter, rejection)] = harness.letters
    assert letter is message
    assert rejection.reason == REROUTE_FAILED_REASON
    await harness.rerouter.settle()
    assert len(harness.letters) == 1  # settled once


async def test_stored_copies_settle_quietly(harness: Harness) -> None:
    key, _, wrong = placed_account()
    assert not await harness.rerouter.admit(Message(key, wrong), key)
    await harness.rerouter.settle()
    assert harness.letters == []


@dataclass
class CopyLog:
    events: list[tuple[str, str, int, bytes]]

    def sent(self, topic: str, partition: int, origin: bytes, ts_ms: int) -> None:
        self.events.append(("sent", topic, partition, origin))
        assert ts_ms == 1_234

    def lost(self, topic: str, partition: int, origin: bytes) -> None:
        self.events.append(("lost", topic, partition, origin))


async def test_the_home_partitions_clock_hears_of_each_copy_and_its_loss(
    harness: Harness,
) -> None:
    key, right, wrong = placed_account()
    copies = CopyLog([])
    harness.rerouter._copies = copies
    harness.topic.refuse = True
    message = Message(key, wrong)
    assert not await harness.rerouter.admit(message, key, 1_234)
    origin = f"{TOPIC}/{wrong}/{message.offset}".encode()
    assert copies.events == [("sent", TOPIC, right, origin)]
    assert harness.topic.sent[0]["headers"][-1] == (REROUTED_HEADER, origin)
    await harness.rerouter.settle()
    assert copies.events[1:] == [("lost", TOPIC, right, origin)]
