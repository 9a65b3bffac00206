"""The cluster changes under traffic: a second worker joins and leaves; the broker bounces.

A rebalance may re-read a partition's uncommitted events on its new owner, and a lost
connection may make a producer send again: signals may come again there, byte-identical.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.faults.harness import READY_TIMEOUT_S, FaultRun
from tests.faults.stream import FaultStream
from tests.faults.traffic import arrivals
from tests.integration.conftest import Sandbox, Worker, second_member
from tests.integration.test_broker_faults import OUTAGE_S, OwnBroker, on_broker

pytestmark = [pytest.mark.faults, pytest.mark.timeout(1200)]


def test_second_worker_joins_and_leaves(fault_run: FaultRun, tmp_path: Path) -> None:
    run = fault_run
    run.start()
    sender = run.send(arrivals(run.sandbox.settings, run.stream.events))
    joining = Worker(second_member(run.sandbox, tmp_path), tmp_path / "worker-b.log")
    try:
        sender.wait_sent(0.33)
        run.say("a second worker joins")
        since = time.monotonic()
        joining.start(READY_TIMEOUT_S)
        run.recovered(since, "the second worker started")
        sender.wait_sent(0.66)
        run.say("the second worker leaves (SIGTERM)")
        run.tally(joining)
        since = time.monotonic()
        assert joining.stop(signal.SIGTERM) == 0, joining.log_tail()
        run.recovered(since, "the second worker stopped")
    finally:
        joining.ensure_stopped()
    run.finish(republish_allowed=True)
    run.assert_exact()


def test_broker_bounce(
    fault_stream: FaultStream, sandbox: Sandbox, own_broker: OwnBroker, tmp_path: Path
) -> None:
    """The broker killed (kill -9) mid-stream, down for longer than the consumer
    session, then started again from its disk. Upstream holds its traffic meanwhile."""
    box = on_broker(sandbox, own_broker.bootstrap)
    worker = Worker(box, tmp_path / "worker.log")
    run = FaultRun("broker_bounce", box, worker, fault_stream)
    try:
        run.start()
        sender = run.send(arrivals(box.settings, fault_stream.events))
        sender.wait_sent(0.4)
        sender.pause()
        run.say(f"broker killed; down for {OUTAGE_S:.0f} s")
        own_broker.stop("kill9")
        time.sleep(OUTAGE_S)
        own_broker.start()
        since = time.monotonic()
        worker.wait_ready(READY_TIMEOUT_S)
        run.say(f"ready {time.monotonic() - since:.1f} s after the broker came back")
        sender.resume()
        run.recovered(since, "the broker came back")
        run.finish(republish_allowed=True)
        run.assert_exact()
    finally:
        worker.ensure_stopped()
