"""The broker goes away mid-stream and comes back: the worker carries on by itself.

Each test runs a broker of its own (so stopping it disturbs no other test), stops or
kills it while a worker is running, keeps it down for longer than the consumer
session, starts it again from the same disk and sends more traffic. Every signal must
come out exactly as the functional core computes it, with window state from before the
outage, and every event must be applied exactly once. Meanwhile the worker says it is
not ready, and writes a few lines about the outage, not one per retry.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import KAFKA_SCRIPT, Sandbox, Worker, free_ports
from tests.integration.helpers import (
    assert_same_signals,
    expected_signals,
    send,
    split_patterns,
    traffic,
    wait_for_signals,
)

pytestmark = pytest.mark.integration

OUTAGE_S = 20.0  # longer than the sandbox's 10 s consumer session
# Lines the worker may write from the broker's stop until it is ready again (before
# the log was rate-limited: ~90,000 for a 15 s outage).
MAX_OUTAGE_LOG_LINES = 200


@dataclass
class OwnBroker:
    env: dict[str, str]
    state_dir: Path
    bootstrap: str = ""

    def run(self, command: str, **extra: str) -> str:
        done = subprocess.run(
            ["bash", str(KAFKA_SCRIPT), command],
            env={**self.env, **extra}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"kafka.sh {command}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, *, fresh: bool = False) -> None:
        out = self.run("start", KAFKA_RESET="1" if fresh else "0")
        self.bootstrap = out.strip().splitlines()[-1]

    def stop(self, how: str) -> None:
        if how == "sigterm":
            self.run("stop")
            return
        pid = int((self.state_dir / "kafka.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        pytest.fail(f"broker {pid} survived SIGKILL")


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    state_dir = tmp_path / "broker"
    broker_port, controller_port = free_ports(2)
    env = {
        **os.environ,
        "KAFKA_PORT": str(broker_port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
        "RISKSTREAM_KAFKA_DIR": str(state_dir),
    }
    broker = OwnBroker(env=env, state_dir=state_dir)
    broker.start(fresh=True)
    try:
        yield broker
    finally:
        subprocess.run(["bash", str(KAFKA_SCRIPT), "stop"], env=env, check=False)


def on_broker(sandbox: Sandbox, bootstrap: str) -> Sandbox:
    settings = sandbox.settings.model_copy(update={"kafka_bootstrap": bootstrap})
    return Sandbox(settings, {**sandbox.env, "KAFKA_BOOTSTRAP": bootstrap}, sandbox.data_dir)


def log_lines(worker: Worker) -> int:
    with worker.log_path.open("rb") as log:
        return sum(1 for _ in log)


def health_for(worker: Worker, seconds: float) -> list[tuple[int, str]]:
    """``/health/``'s answers (status, reason) every half second for ``seconds``."""
    answers: list[tuple[int, str]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = httpx.get(f"{worker.url}/health/", timeout=2)
        answers.append((answer.status_code, answer.json().get("reason", "")))
        time.sleep(0.5)
    return answers


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_worker_resumes_after_the_broker_restarts(
    sandbox: Sandbox, own_broker: OwnBroker, tmp_path: Path, how: str
) -> None:
    box = on_broker(sandbox, own_broker.bootstrap)
    before, after = split_patterns()
    background = traffic(seed=31, accounts=400)
    half = len(background) // 2
    first, second = background[:half] + before, background[half:] + after
    expected = expected_signals(first + second)
    assert {body["entity_id"] for body in expected.values()} >= {"acct-split", "acct-split-ato"}

    worker = Worker(box, tmp_path / "worker.log")
    try:
        worker.start()
        send(box.settings, first)
        # Mid-backlog: accounts half done, their devices, IPs ... still in the re-key topic.
        at_stop = worker.wait_for("applied", len(first) // 4)
        lines_before = log_lines(worker)
        own_broker.stop(how)
        assert at_stop["entity_events"] < at_stop["rekeyed"] or at_stop["applied"] < len(first)
        during = health_for(worker, OUTAGE_S)
        assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
        assert during[-1] == (503, "broker_unreachable"), during
        assert sum(status == 503 for status, _ in during) >= len(during) // 2, during
        own_broker.start()
        worker.wait_ready(90)
        outage_lines = log_lines(worker) - lines_before
        assert outage_lines < MAX_OUTAGE_LOG_LINES, worker.log_tail(300)
        send(box.settings, second)

        records = wait_for_signals(box.settings, set(expected), timeout_s=180)
        assert_same_signals(records, expected)
        stats = worker.wait_for("applied", len(first) + len(second), timeout_s=60)
        assert stats["applied"] == len(first) + len(second), stats
        assert stats["dead_lettered"] == 0, stats
        assert worker.process.poll() is None, worker.log_tail()
    finally:
        worker.ensure_stopped()
