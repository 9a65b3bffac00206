"""Stopping, killing and wiping a worker mid-stream loses and doubles nothing."""

from __future__ import annotations

import shutil
import signal
import threading
import time

import pytest

from riskstream.streams.codec import loads
from riskstream.tools.simulate import SimEvent
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import (
    assert_same_signals,
    expected_signals,
    read_all,
    send,
    traffic,
    wait_for_signals,
)
from tests.unit.factories import account_event, txn

pytestmark = pytest.mark.integration


def split_patterns(sandbox: Sandbox) -> tuple[list, list]:
    """A velocity burst and a takeover, each cut in two by the restart.

    Neither half fires on its own: the second half fires only if the window state
    written before the restart is still there after it.
    """

    def wrap(event: object) -> SimEvent:
        payload = event.model_dump()  # type: ignore[attr-defined]
        kind = "transaction" if "amount" in payload else "account_event"
        return SimEvent(kind, payload)

    base = time.time() - 3600
    offset = base - txn("x", 0).occurred_at.timestamp()
    burst = [wrap(txn(f"split-v{n}", offset + n * 5, 2, account="acct-split")) for n in range(16)]
    takeover = [
        wrap(account_event("split-pw", offset + 10, account="acct-split-ato")),
        wrap(txn("split-w", offset + 300, 4000, type="withdrawal", account="acct-split-ato")),
    ]
    return burst[:6] + takeover[:1], burst[6:] + takeover[1:]


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
    before, after = split_patterns(sandbox)
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


def test_state_is_rebuilt_from_the_changelog_when_the_local_store_is_lost(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    before, after = split_patterns(sandbox)
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
