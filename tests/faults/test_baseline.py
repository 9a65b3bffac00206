"""No fault at all: the stream in event-time order, at a steady rate, to one worker.

What the other scenarios are measured against: any difference here is the live
pipeline's own, not a fault's.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultRun
from tests.faults.traffic import arrivals

pytestmark = [pytest.mark.faults, pytest.mark.timeout(1200)]


def test_no_fault(fault_run: FaultRun) -> None:
    run = fault_run
    run.start()
    run.send(arrivals(run.sandbox.settings, run.stream.events))
    run.finish(republish_allowed=False)
    run.assert_exact()
