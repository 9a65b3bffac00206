"""Integration fixtures: one real Kafka broker per test session, a worker per test.

The broker is ours (``deploy/local/kafka.sh`` on a test port) unless
``RISKSTREAM_TEST_BOOTSTRAP`` names one to use instead. Every test gets its own topics,
consumer group, data directory and web port, so tests never see each other's records.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from riskstream.streams.access import Role
from riskstream.streams.codec import dumps
from riskstream.streams.settings import Settings, TopicNames
from riskstream.web.tokens import mint

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = ROOT / "deploy" / "local" / "kafka.sh"
TOKEN_SECRET = "integration-tests-token-secret"
TEST_PORT = int(os.environ.get("RISKSTREAM_TEST_KAFKA_PORT", "19092"))


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    given = os.environ.get("RISKSTREAM_TEST_BOOTSTRAP")
    if given:
        yield given
        return
    env = {**os.environ, "KAFKA_PORT": str(TEST_PORT), "KAFKA_RESET": "1"}
    started = subprocess.run(
        ["bash", str(KAFKA_SCRIPT), "start"], env=env, capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        pytest.fail(f"could not start the test broker:\n{started.stdout}\n{started.stderr}")
    bootstrap = started.stdout.strip().splitlines()[-1]
    try:
        yield bootstrap
    finally:
        subprocess.run(["bash", str(KAFKA_SCRIPT), "stop"], env=env, check=False)


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: held open together while they are chosen, since a
    port just released may be handed out again at once."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Sandbox:
    """One test's private world: settings and the environment a worker runs with."""

    settings: Settings
    env: dict[str, str]
    data_dir: Path

    def token(self, role: Role = "admin", subject: str = "it-admin") -> str:
        """A bearer token for the sandbox's workers (signed with its own secret)."""
        secret = self.settings.auth_jwt_secret
        assert secret is not None
        return mint(secret.get_secret_value(), subject, [role], timedelta(hours=1))


@pytest.fixture
def sandbox(kafka_bootstrap: str, tmp_path: Path) -> Sandbox:
    tag = uuid.uuid4().hex[:10]
    topics = TopicNames(
        transactions=f"t-{tag}.transactions",
        account_events=f"t-{tag}.account-events",
        feedback=f"t-{tag}.feedback",
        signals=f"t-{tag}.signals",
        decisions=f"t-{tag}.decisions",
        dead_letter=f"t-{tag}.dead-letter",
        rules=f"t-{tag}.rules",
        penalties=f"t-{tag}.penalties",
        audit=f"t-{tag}.audit",
        rule_proposals=f"t-{tag}.rule-proposals",
        rule_suspensions=f"t-{tag}.rule-suspensions",
        profiles=f"t-{tag}.profiles",
    )
    web_port = free_port()
    data_dir = tmp_path / "data"
    # The workers' own secrets, new for each test: nothing reaches them without a token.
    jwt_secret, internal_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("RISKSTREAM_")},
        "KAFKA_BOOTSTRAP": kafka_bootstrap,
        "WEB_PORT": str(web_port),
        "RISKSTREAM_APP_ID": f"it-{tag}",
        "RISKSTREAM_DATA_DIR": str(data_dir),
        "RISKSTREAM_TOKEN_SECRET": TOKEN_SECRET,
        "RISKSTREAM_PARTITIONS": "4",
        "RISKSTREAM_SESSION_TIMEOUT_S": "10",
        "RISKSTREAM_HEARTBEAT_INTERVAL_S": "1",
        "RISKSTREAM_AUTH_JWT_SECRET": jwt_secret,
        "RISKSTREAM_INTERNAL_SECRET": internal_secret,
        # Rule changes publish at once here; tests/integration/test_rule_approval.py
        # turns maker-checker on.
        "RISKSTREAM_RULES_APPROVAL": "off",
        "PYTHONUNBUFFERED": "1",
        **{
            f"RISKSTREAM_TOPIC_{name.upper()}": value for name, value in topics.model_dump().items()
        },
    }
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        web_port=web_port,
        app_id=f"it-{tag}",
        data_dir=data_dir,
        partitions=4,
        topics=topics,
        auth_jwt_secret=jwt_secret,
        internal_secret=internal_secret,
        token_secret=TOKEN_SECRET,
        rules_approval="off",
    )
    return Sandbox(settings=settings, env=env, data_dir=data_dir)


def second_member(sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    """The same app (consumer group, topics) with its own web port and local store."""
    port = free_port()
    data_dir = tmp_path / "data-b"
    settings = sandbox.settings.model_copy(update={"web_port": port, "data_dir": data_dir})
    env = {**sandbox.env, "WEB_PORT": str(port), "RISKSTREAM_DATA_DIR": str(data_dir)}
    return Sandbox(settings=settings, env=env, data_dir=data_dir)


class Worker:
    """A real ``riskstream worker`` process."""

    def __init__(self, sandbox: Sandbox, log_path: Path) -> None:
        self.sandbox = sandbox
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{sandbox.settings.web_port}"

    def start(self, ready_timeout_s: float = 90.0) -> Worker:
        self.spawn()
        self.wait_ready(ready_timeout_s)
        return self

    def spawn(self) -> None:
        """Start the worker process without waiting for it to be ready."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "riskstream", "worker", "-l", "info"],
            env=self.sandbox.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"worker not ready after {timeout_s} s:\n{self.log_tail()}")

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        role: Role = "admin",
        subject: str = "it-admin",
        timeout: float = 10,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> httpx.Response:
        """An HTTP request to the worker with a bearer token of ``role`` for ``subject``;
        ``body`` (bytes as they are, anything else as JSON) goes as application/json."""
        headers = {
            "Authorization": f"Bearer {self.sandbox.token(role, subject)}",
            **(headers or {}),
        }
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
            if not isinstance(body, bytes):
                body = dumps(body)
        return httpx.request(
            method, f"{self.url}{path}", content=body, headers=headers, timeout=timeout, **options
        )

    def stats(self) -> dict[str, int]:
        body = self.call("GET", "/stats/", role="analyst", timeout=5).json()
        return dict(body["ingest"])

    def wait_for(self, counter: str, at_least: int, timeout_s: float = 60.0) -> dict[str, int]:
        deadline = time.monotonic() + timeout_s
        stats: dict[str, int] = {}
        while time.monotonic() < deadline:
            stats = self.stats()
            if stats[counter] >= at_least:
                return stats
            time.sleep(0.2)
        pytest.fail(f"{counter} stayed below {at_least}: {stats}\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60.0) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"worker ignored signal {sig}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def worker(sandbox: Sandbox, tmp_path: Path) -> Iterator[Worker]:
    handle = Worker(sandbox, tmp_path / "worker.log")
    try:
        yield handle
    finally:
        handle.ensure_stopped()
