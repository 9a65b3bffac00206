"""A second worker joins and leaves mid-stream: partitions move, windows stay exact."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.integration.conftest import Sandbox, Worker, second_member
from tests.integration.helpers import (
    assert_same_signals,
    expected_signals,
    send,
    split_patterns,
    traffic,
    wait_for_signals,
)

pytestmark = pytest.mark.integration


def test_windows_stay_exact_when_a_worker_joins_and_leaves(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    before, after = split_patterns()
    background = traffic(seed=31, accounts=90)
    third = len(background) // 3
    phases = [
        background[:third] + before[: len(before) // 2],
        background[third : 2 * third] + before[len(before) // 2 :],
        background[2 * third :] + after,
    ]
    everything = [event for phase in phases for event in phase]
    expected = expected_signals(everything)

    worker.start()
    send(settings, phases[0])
    worker.wait_for("applied", len(phases[0]))

    joining = Worker(second_member(sandbox, tmp_path), tmp_path / "worker-b.log")
    try:
        joining.start()
        worker.wait_ready(90)  # the first member has taken part in the rebalance
        send(settings, phases[1])
        assert joining.stop(signal.SIGTERM) == 0, joining.log_tail()
    finally:
        joining.ensure_stopped()
    worker.wait_ready(90)
    send(settings, phases[2])

    records = wait_for_signals(settings, set(expected), timeout_s=120)
    # A partition moved mid-batch may be re-read by its new owner: at-least-once, so a
    # signal may come twice, but only byte-identical (checked inside) and never missing.
    # Only what was in flight when a partition moved comes again: a few copies, not a
    # second run of the stream (one in nine has been seen on a busy machine).
    redeliveries = assert_same_signals(records, expected)
    assert redeliveries <= max(3, len(expected) // 3)
