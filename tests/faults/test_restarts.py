"""The worker stopped, killed and wiped under traffic: replay's signals all the same.

Each scenario sends the whole stream in event-time order at a steady rate, as the
upstream services would, and does its fault at a share of it. After a crash (kill -9)
a signal may come again, byte-identical; after a clean stop nothing may.
"""

from __future__ import annotations

import signal

import pytest

from tests.faults.harness import FaultRun
from tests.faults.traffic import arrivals

pytestmark = [pytest.mark.faults, pytest.mark.timeout(1200)]


def test_kill9_three_times(fault_run: FaultRun) -> None:
    run = fault_run
    run.start()
    sender = run.send(arrivals(run.sandbox.settings, run.stream.events))
    for share in (0.2, 0.45, 0.7):
        sender.wait_sent(share)
        run.restart(signal.SIGKILL)
    run.finish(republish_allowed=True)
    run.assert_exact()


def test_sigterm(fault_run: FaultRun) -> None:
    run = fault_run
    run.start()
    sender = run.send(arrivals(run.sandbox.settings, run.stream.events))
    sender.wait_sent(0.5)
    run.restart(signal.SIGTERM)
    run.finish(republish_allowed=False)
    run.assert_exact()


def test_lost_data_dir_after_sigterm(fault_run: FaultRun) -> None:
    run = fault_run
    run.start()
    sender = run.send(arrivals(run.sandbox.settings, run.stream.events))
    sender.wait_sent(0.5)
    run.restart(signal.SIGTERM, wipe=True)
    run.finish(republish_allowed=False)
    run.assert_exact()


def test_lost_data_dir_after_kill9(fault_run: FaultRun) -> None:
    run = fault_run
    run.start()
    sender = run.send(arrivals(run.sandbox.settings, run.stream.events))
    sender.wait_sent(0.5)
    run.restart(signal.SIGKILL, wipe=True)
    run.finish(republish_allowed=True)
    run.assert_exact()
