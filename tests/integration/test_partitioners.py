"""Producers that do not partition by murmur2: an account's events still meet.

A librdkafka producer with its default partitioner (crc32 of the key) writes the
transactions, a Java-style producer (murmur2, kafka-python's default) the account events.
For most accounts the two hashes pick different partitions, so a takeover's credential
change and its withdrawal would be applied to two halves of the account's state and never
meet. The worker must send the misplaced ones to the murmur2 partition and conclude
exactly what replay concludes from the same events.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest
from kafka.partitioner.default import murmur2

from riskstream.simulation.event import SimEvent
from riskstream.streams.codec import loads
from riskstream.streams.kafka_io import producer
from riskstream.streams.settings import Settings
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import assert_same_signals, expected_signals, wait_for_signals

pytestmark = pytest.mark.integration

MOVED_ACCOUNTS = 6  # crc32 and murmur2 disagree: their withdrawals are misplaced
STAYING_ACCOUNTS = 2  # the two hashes happen to agree


def crc32_partition(key: bytes, partitions: int) -> int:
    """librdkafka's default (``consistent_random``) partition of a keyed message."""
    return zlib.crc32(key) % partitions


def murmur2_partition(key: bytes, partitions: int) -> int:
    """kafka-python's, as Kafka's Java client: an implementation apart from the worker's."""
    return int((murmur2(key) & 0x7FFFFFFF) % partitions)


def pick_accounts(partitions: int) -> tuple[list[str], list[str]]:
    moved: list[str] = []
    staying: list[str] = []
    for n in range(1000):
        account = f"acct-mixed-{n:03d}"
        key = account.encode()
        agree = crc32_partition(key, partitions) == murmur2_partition(key, partitions)
        (staying if agree else moved).append(account)
    return moved[:MOVED_ACCOUNTS], staying[:STAYING_ACCOUNTS]


def takeover(account: str, at: datetime) -> tuple[SimEvent, SimEvent]:
    """A password change, then a withdrawal of 2,400 four minutes later."""
    common = {"account_id": account, "device_id": f"{account}-dev"}
    change = {"event_id": f"{account}-pw", "type": "password_change", "occurred_at": at}
    cashout = {
        "event_id": f"{account}-wd",
        "type": "withdrawal",
        "occurred_at": at + timedelta(minutes=4),
        "amount": "2400.00",
        "currency": "CNY",
    }
    return (
        SimEvent("account_event", {**change, **common}),
        SimEvent("transaction", {**cashout, **common}),
    )


def produce(settings: Settings, topic: str, events: list[SimEvent], *, crc32: bool) -> None:
    """Keyed by account; placed by crc32 as librdkafka would, or by the client's murmur2."""
    sink = producer(settings)
    for event in events:
        partition = crc32_partition(event.key, settings.partitions) if crc32 else None
        sink.send(topic, key=event.key, value=event.encode(), partition=partition)
    sink.flush()
    sink.close()


def test_mixed_producer_partitioners_detect_what_replay_detects(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    moved, staying = pick_accounts(settings.partitions)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    accounts = moved + staying
    pairs = [
        takeover(account, start + timedelta(seconds=20 * n)) for n, account in enumerate(accounts)
    ]
    changes = [change for change, _ in pairs]
    cashouts = [cashout for _, cashout in pairs]
    expected = expected_signals(changes + cashouts)
    takeovers = {
        body["entity_id"] for body in expected.values() if body["rule_id"] == "account_takeover"
    }
    assert takeovers == set(accounts)  # replay, the oracle, sees every one

    worker.start()
    # As they happen: the credential changes first, the withdrawals minutes later.
    produce(settings, settings.topics.account_events, changes, crc32=False)
    worker.wait_for("applied", len(changes))
    produce(settings, settings.topics.transactions, cashouts, crc32=True)

    records = wait_for_signals(settings, set(expected), timeout_s=60.0)
    assert assert_same_signals(records, expected) == 0
    # One credential change and one withdrawal per account: nothing is left to the
    # order of arrival, so every signal is replay's whole, evidence and aggregates too.
    assert {loads(record.value)["signal_id"]: loads(record.value) for record in records} == expected

    stats = worker.wait_for("applied", len(changes) + len(cashouts))
    assert stats["rerouted_partition"] == len(moved)
    assert stats["rerouted"] == 0
    assert stats["late"] == 0
    assert stats["dead_lettered"] == 0
    # Logged, but not once per message: the first in full, the rest summed up later.
    assert worker.log_path.read_text().count("not on its murmur2 partition") == 1
