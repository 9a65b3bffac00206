"""The fault suite's fixtures: the integration suite's broker, sandbox and worker, one
seeded stream with replay's signals for the whole session, and a scenario run per test.

The suite runs only when asked for (``make test-faults``: ``pytest -m faults``); plain
``pytest`` deselects it (``addopts`` in pyproject.toml).
"""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import FaultRun
from tests.faults.scoreboard import ROWS, table
from tests.faults.stream import FaultStream, build_stream
from tests.integration.conftest import Sandbox, Worker, kafka_bootstrap, sandbox, worker
from tests.integration.test_broker_faults import own_broker

__all__ = ["fault_run", "fault_stream", "kafka_bootstrap", "own_broker", "sandbox", "worker"]


@pytest.fixture(scope="session")
def fault_stream() -> FaultStream:
    started = time.monotonic()
    stream = build_stream()
    print(
        f"\n[faults] stream: {len(stream.events):,} events, {len(stream.expected)} replay "
        f"signals ({time.monotonic() - started:.1f} s)",
        flush=True,
    )
    return stream


@pytest.fixture
def fault_run(
    request: pytest.FixtureRequest, fault_stream: FaultStream, sandbox: Sandbox, worker: Worker
) -> FaultRun:
    """The scenario's run on the default sandbox and worker (named after the test)."""
    # The suite sends three days of event time in about a minute: event time runs
    # ~4,000x faster than the wall clock, so the watermark delay must be as much larger
    # than a deployment's 2 s for the same slack between topics read at slightly
    # different moments (2 h here is ~1.7 s of the suite's wall clock; 10 minutes would
    # be 0.15 s, less than a busy machine's scheduling delay). It also covers the
    # contract's disorder, 10 minutes (``shuffle_within_lateness``).
    sandbox.env["RISKSTREAM_WATERMARK_DELAY_S"] = "7200"
    # A topic silent for less than this is waited for, not taken as idle: the lagging
    # topic of ``transactions_lag_by_30_hours`` is silent for ~3 s of the suite's wall
    # clock, and a partition of the sparse feedback topic for up to ~18 s.
    sandbox.env["RISKSTREAM_IDLE_SOURCE_S"] = "10"
    return FaultRun(request.node.name.removeprefix("test_"), sandbox, worker, fault_stream)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ROWS:
        return
    terminalreporter.section("fault scenarios: the live signals against replay's")
    for line in table(ROWS):
        terminalreporter.write_line(line)
    total = sum(row.seconds for row in ROWS)
    terminalreporter.write_line(f"{len(ROWS)} scenarios in {total / 60:.1f} min")
