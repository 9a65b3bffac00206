"""Stopping, killing and wiping a worker mid-stream loses and doubles nothing."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaConsumer, TopicPartition

from riskstream.simulation.traffic import SimConfig, TrafficSimulator
from riskstream.streams.codec import loads
from riskstream.streams.settings import Settings
from riskstream.streams.topics import rekey_topic_name
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import (
    assert_same_signals,
    expected_signals,
    read_all,
    send,
    split_patterns,
    traffic,
    wait_for_signals,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("stop_signal", "guarantee"),
    [
        (signal.SIGTERM, "at_least_once"),
        (signal.SIGKILL, "at_least_once"),
    ],
    ids=["sigterm", "kill9"],
)
def test_restart_mid_stream_keeps_windows_and_signals(
    sandbox: Sandbox, worker: Worker, stop_signal: int, guarantee: str
) -> None:
    sandbox.env["RISKSTREAM_PROCESSING_GUARANTEE"] = guarantee
    settings = sandbox.settings
    before, after = split_patterns()
    background = traffic(seed=21, accounts=80)
    half = len(background) // 2
    first = background[:half] + before
    second = background[half:] + after
    expected = expected_signals(first + second)
    assert {body["entity_id"] for body in expected.values()} >= {"acct-split", "acct-split-ato"}

    worker.start()
    send(settings, first)
    worker.wait_for("applied", len(first))
    # Keep events flowing while the worker goes down, so the stop lands mid-stream.
    producer_thread = threading.Thread(target=send, args=(settings, second[:200], 400.0))
    producer_thread.start()
    time.sleep(0.2)
    exit_code = worker.stop(stop_signal)
    producer_thread.join()
    if stop_signal == signal.SIGTERM:
        assert exit_code == 0, worker.log_tail()
    send(settings, second[200:])

    worker.start()
    records = wait_for_signals(settings, set(expected), timeout_s=150)
    redeliveries = assert_same_signals(records, expected)
    if stop_signal == signal.SIGTERM:
        assert redeliveries == 0
    names = {loads(record.value)["entity_id"] for record in records}
    assert {"acct-split", "acct-split-ato"} <= names


def _uncommitted(settings: Settings) -> dict[str, int]:
    """Messages per topic that the worker's group has not committed yet."""
    client = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.app_id,
        enable_auto_commit=False,
    )
    try:
        behind = {}
        for topic in (
            settings.topics.transactions,
            settings.topics.account_events,
            rekey_topic_name(settings),
        ):
            tps = [TopicPartition(topic, p) for p in range(settings.partitions)]
            ends = client.end_offsets(tps)
            behind[topic] = sum(ends[tp] - (client.committed(tp) or 0) for tp in tps)
        return behind
    finally:
        client.close()


def test_repeated_kills_under_traffic_lose_nothing_and_leave_no_partition_stalled(
    sandbox: Sandbox, worker: Worker
) -> None:
    """Three kill -9s while traffic flows, each soon after the worker came back.

    Each restart is a recovery racing fresh input: a message fetched and then dropped
    there would stall its partition's commits for good, and its event would be lost.
    """
    settings = sandbox.settings
    config = SimConfig(
        seed=3,
        accounts=250,
        duration=timedelta(minutes=30),
        end=datetime.now(UTC).replace(microsecond=0),
        velocity_attacks=20,
        takeovers=20,
        large_spends=5,
    )
    events = TrafficSimulator(config).events()
    expected = expected_signals(events)
    assert len(expected) >= 30

    worker.start()
    producer_thread = threading.Thread(target=send, args=(settings, events, 70.0))
    producer_thread.start()
    for pause_s in (2.0, 1.0, 1.5):
        time.sleep(pause_s)
        worker.stop(signal.SIGKILL)
        worker.start()
    producer_thread.join()

    assert_same_signals(wait_for_signals(settings, set(expected), timeout_s=150), expected)
    deadline = time.monotonic() + 30
    while (behind := _uncommitted(settings)) and any(behind.values()):
        assert time.monotonic() < deadline, f"commits stalled: {behind}\n{worker.log_tail()}"
        time.sleep(1)


def test_state_is_rebuilt_from_the_changelog_when_the_local_store_is_lost(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    before, after = split_patterns()
    expected = expected_signals(before + after)
    worker.start()
    send(settings, before)
    worker.wait_for("applied", len(before))
    assert worker.stop(signal.SIGTERM) == 0
    assert read_all(settings, settings.topics.signals, idle_s=1.0) == []
    shutil.rmtree(sandbox.data_dir)  # the disk is gone; only Kafka remembers

    worker.start()
    send(settings, after)
    assert_same_signals(wait_for_signals(settings, set(expected)), expected)
    assert worker.stats()["applied"] == len(after)
