"""The pipeline through a SASL_SSL listener (SCRAM-SHA-512, a CA of its own), and the
clients that may not in.

This module runs its own broker (``KAFKA_SECURITY=sasl_ssl deploy/local/kafka.sh``) on
``RISKSTREAM_TEST_SECURE_KAFKA_PORT`` (default 29892); it takes no plaintext listener,
so every client of the worker and the commands has to log in over TLS. Its user is a
super user: what the authorizer allows each component is test_kafka_acls.py's.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr

from riskstream.streams import kafka_security
from riskstream.streams.codec import loads
from tests.integration.conftest import ROOT, Sandbox, Worker
from tests.integration.helpers import (
    expected_signals,
    sasl_ssl_broker,
    send,
    traffic,
    wait_for_signals,
)

pytestmark = pytest.mark.integration

SECURE_PORT = int(os.environ.get("RISKSTREAM_TEST_SECURE_KAFKA_PORT", "29892"))
USERNAME = "riskstream-worker"


@dataclass(frozen=True)
class SecureBroker:
    bootstrap: str
    ca_file: Path
    password: str

    def env(self, password: str | None = None) -> dict[str, str]:
        return {
            "RISKSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "RISKSTREAM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "RISKSTREAM_KAFKA_SASL_USERNAME": USERNAME,
            "RISKSTREAM_KAFKA_SASL_PASSWORD": password or self.password,
            "RISKSTREAM_KAFKA_SSL_CA_FILE": str(self.ca_file),
        }


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    state_dir = tmp_path_factory.mktemp("secure-broker")
    password = secrets.token_urlsafe(18)
    users = {USERNAME: password}
    with sasl_ssl_broker(SECURE_PORT, users, USERNAME, state_dir) as (bootstrap, ca_file):
        yield SecureBroker(bootstrap=bootstrap, ca_file=ca_file, password=password)


@pytest.fixture(scope="module")
def kafka_bootstrap(secure_broker: SecureBroker) -> str:
    return secure_broker.bootstrap


@pytest.fixture
def sandbox(sandbox: Sandbox, secure_broker: SecureBroker) -> Sandbox:
    """The shared sandbox, logged in over TLS as the worker's user."""
    settings = sandbox.settings.model_copy(
        update={
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "SCRAM-SHA-512",
            "kafka_sasl_username": USERNAME,
            "kafka_sasl_password": SecretStr(secure_broker.password),
            "kafka_ssl_ca_file": secure_broker.ca_file,
        }
    )
    return Sandbox(
        settings=settings, env={**sandbox.env, **secure_broker.env()}, data_dir=sandbox.data_dir
    )


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskstream", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_pipeline_runs_through_sasl_ssl(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    events = traffic(seed=11, accounts=60)
    expected = expected_signals(events)
    assert expected
    worker.start()  # creates its topics, follows rules, penalties, signals, decisions
    send(settings, events)
    records = wait_for_signals(settings, set(expected))
    assert set(expected) <= {loads(record.value)["signal_id"] for record in records}
    worker.wait_for("applied", len(events))

    created = run_cli(sandbox.env, "topics", "create")  # the admin client logs in too
    assert created.returncode == 0, created.stderr
    assert f"{settings.topics.rules}: exists" in created.stdout
    rules = run_cli(sandbox.env, "rules", "list")
    assert rules.returncode == 0, rules.stderr


def test_a_wrong_password_is_refused_in_one_line(
    sandbox: Sandbox, secure_broker: SecureBroker
) -> None:
    wrong = "not-" + secure_broker.password
    env = {**sandbox.env, **secure_broker.env(password=wrong)}
    for args in (("worker",), ("topics", "create"), ("rules", "list"), ("penalties", "list")):
        done = run_cli(env, *args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1, done.stderr
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert lines[0].startswith(f"riskstream {args[0]}: Kafka at {secure_broker.bootstrap}")
        assert "SaslAuthenticationFailed" in lines[0]
        assert wrong not in done.stderr + done.stdout


def test_an_untrusted_certificate_is_refused(sandbox: Sandbox, secure_broker: SecureBroker) -> None:
    settings = sandbox.settings.model_copy(update={"kafka_ssl_ca_file": None})
    with pytest.raises(kafka_security.KafkaSecurityError, match="CERTIFICATE_VERIFY_FAILED"):
        kafka_security.verify_login(settings)


@pytest.mark.parametrize(
    ("protocol", "mechanism", "why"),
    [
        # TLS only: the TLS handshake passes, the listener then drops the first request.
        ("SSL", None, "dropped the connection at the first request"),
        ("PLAINTEXT", None, "another security protocol than PLAINTEXT"),
        ("SASL_SSL", "SCRAM-SHA-256", "UnsupportedSaslMechanism"),
    ],
)
def test_a_protocol_or_mechanism_mismatch_is_refused_at_start_in_one_line(
    sandbox: Sandbox, secure_broker: SecureBroker, protocol: str, mechanism: str | None, why: str
) -> None:
    env = {
        name: value
        for name, value in sandbox.env.items()
        if not name.startswith("RISKSTREAM_KAFKA_SASL_")
        and not (protocol == "PLAINTEXT" and name == "RISKSTREAM_KAFKA_SSL_CA_FILE")
    }
    env["RISKSTREAM_KAFKA_SECURITY_PROTOCOL"] = protocol
    if mechanism is not None:
        env["RISKSTREAM_KAFKA_SASL_MECHANISM"] = mechanism
        env["RISKSTREAM_KAFKA_SASL_USERNAME"] = USERNAME
        env["RISKSTREAM_KAFKA_SASL_PASSWORD"] = secure_broker.password
    for args in (("worker",), ("topics", "create")):
        done = run_cli(env, *args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1, done.stderr
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert lines[0].startswith(f"riskstream {args[0]}: Kafka at {secure_broker.bootstrap}")
        assert why in lines[0]
        assert secure_broker.password not in done.stderr + done.stdout


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SSL"])
def test_a_client_without_credentials_is_refused(
    sandbox: Sandbox, secure_broker: SecureBroker, protocol: str
) -> None:
    """Plaintext, or TLS without a login: the broker answers no metadata request."""
    settings = sandbox.settings.model_copy(
        update={
            "kafka_security_protocol": protocol,
            "kafka_sasl_mechanism": None,
            "kafka_sasl_username": None,
            "kafka_sasl_password": None,
            "kafka_ssl_ca_file": secure_broker.ca_file if protocol == "SSL" else None,
        }
    )

    async def bootstrap() -> None:
        client = AIOKafkaClient(
            **kafka_security.client_options(settings), request_timeout_ms=10_000
        )
        try:
            await client.bootstrap()
        finally:
            await client.close()

    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        asyncio.run(bootstrap())
