"""The ACL table enforced: each component logs in as its own principal and may do only
what ``riskstream acls apply`` granted it.

This module runs its own broker (``KAFKA_SECURITY=sasl_ssl deploy/local/kafka.sh``, an
authorizer that refuses what no ACL allows) on ``RISKSTREAM_TEST_ACL_KAFKA_PORT``
(default 29894). ``admin`` is its super user: it creates the topics and applies the
ACLs; the worker, the input producer and the operator log in with the default
principals of the table.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.errors import TopicAuthorizationFailedError
from pydantic import SecretStr

from riskstream.agents.score_request import make_penalty
from riskstream.streams.codec import dumps, loads
from riskstream.streams.kafka_security import client_options
from riskstream.streams.scoring_model import PenaltyRequest
from riskstream.streams.settings import Settings
from tests.integration.conftest import ROOT, Sandbox, Worker
from tests.integration.helpers import (
    expected_signals,
    sasl_ssl_broker,
    send,
    traffic,
    wait_for_signals,
)

pytestmark = pytest.mark.integration

ACL_PORT = int(os.environ.get("RISKSTREAM_TEST_ACL_KAFKA_PORT", "29894"))
USERS = ("admin", "riskstream-worker", "riskstream-producer", "riskstream-operator")


@dataclass(frozen=True)
class AclBroker:
    bootstrap: str
    ca_file: Path
    passwords: dict[str, str]


@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclBroker]:
    state_dir = tmp_path_factory.mktemp("acl-broker")
    passwords = {user: secrets.token_urlsafe(18) for user in USERS}
    with sasl_ssl_broker(ACL_PORT, passwords, "admin", state_dir) as (bootstrap, ca_file):
        yield AclBroker(bootstrap=bootstrap, ca_file=ca_file, passwords=passwords)


@pytest.fixture(scope="module")
def kafka_bootstrap(acl_broker: AclBroker) -> str:
    return acl_broker.bootstrap


def logged_in(sandbox: Sandbox, broker: AclBroker, user: str) -> Sandbox:
    """``sandbox`` (its topics, app id, web port) with the login of ``user``."""
    settings = sandbox.settings.model_copy(
        update={
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "SCRAM-SHA-512",
            "kafka_sasl_username": user,
            "kafka_sasl_password": SecretStr(broker.passwords[user]),
            "kafka_ssl_ca_file": broker.ca_file,
        }
    )
    env = {
        **sandbox.env,
        "RISKSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "RISKSTREAM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "RISKSTREAM_KAFKA_SASL_USERNAME": user,
        "RISKSTREAM_KAFKA_SASL_PASSWORD": broker.passwords[user],
        "RISKSTREAM_KAFKA_SSL_CA_FILE": str(broker.ca_file),
    }
    return Sandbox(settings=settings, env=env, data_dir=sandbox.data_dir)


@pytest.fixture
def sandbox(sandbox: Sandbox, acl_broker: AclBroker) -> Sandbox:
    """The shared sandbox as the worker's principal, with its topics and ACLs in place."""
    admin = logged_in(sandbox, acl_broker, "admin")
    for args in (("topics", "create"), ("acls", "apply")):
        done = run_cli(admin, *args)
        assert done.returncode == 0, done.stderr
    return logged_in(sandbox, acl_broker, "riskstream-worker")


def run_cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskstream", *args],
        env=sandbox.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def write(settings: Settings, topic: str, key: bytes, value: bytes) -> None:
    """One record, acknowledged by the broker (or the broker's refusal raised)."""
    producer = KafkaProducer(**client_options(settings), acks="all", max_block_ms=15_000)
    try:
        producer.send(topic, key=key, value=value).get(timeout=15)
    finally:
        producer.close(timeout=5)


def allow_entry(entity_id: str) -> tuple[bytes, bytes]:
    """The key and value of an allow-list entry, as the penalty center stores one: it
    would silence every signal of ``entity_id``."""
    request = PenaltyRequest(entity_type="account", entity_id=entity_id, kind="allow",
                             reason="trusted", ttl="7d")  # fmt: skip
    penalty = make_penalty(request, "mallory", datetime.now(UTC))
    return penalty.penalty_id.encode(), dumps(penalty)


def state(worker: Worker) -> dict[str, Any]:
    penalties = worker.call("GET", "/penalties/", role="analyst", timeout=5).json()
    rules = worker.call("GET", "/rules/", role="analyst", timeout=5).json()
    return {
        "penalties": sorted(entry["penalty_id"] for entry in penalties["penalties"]),
        "rules": rules,
    }


def wait_for_penalty(worker: Worker, entity_id: str, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = state(worker)
        if any(f":{entity_id}:" in penalty_id for penalty_id in now["penalties"]):
            return now
        time.sleep(0.3)
    pytest.fail(f"the worker never showed the penalty of {entity_id}:\n{worker.log_tail()}")


def test_an_input_producer_cannot_change_rules_or_penalties(
    sandbox: Sandbox, acl_broker: AclBroker, worker: Worker
) -> None:
    settings = sandbox.settings
    producer = logged_in(sandbox, acl_broker, "riskstream-producer").settings
    events = traffic(seed=11, accounts=60)
    expected = expected_signals(events)
    assert expected
    worker.start()
    send(producer, events)  # the producer may write the inputs
    records = wait_for_signals(settings, set(expected))
    assert set(expected) <= {loads(record.value)["signal_id"] for record in records}
    worker.wait_for("applied", len(events))
    before = state(worker)

    target = events[0].key.decode() if events[0].key else "acct-1"
    attempts = {
        settings.topics.penalties: allow_entry(target),
        settings.topics.rules: (b"velocity", dumps({"rule_id": "velocity", "mode": "disabled"})),
        settings.topics.audit: (b"forged", dumps({"actor": "mallory", "seq": 0})),
    }
    for topic, (key, value) in attempts.items():
        with pytest.raises(TopicAuthorizationFailedError):
            write(producer, topic, key, value)

    # An operator's penalty, written after the attempts, reaches the worker: by then
    # anything the producer had managed to write would have too.
    operator = logged_in(sandbox, acl_broker, "riskstream-operator")
    added = run_cli(operator, "penalties", "add", "--entity-id", "acct-marker", "--kind",
                    "review", "--reason", "check", "--operator", "olga", "--ttl", "1h")  # fmt: skip
    assert added.returncode == 0, added.stderr
    after = wait_for_penalty(worker, "acct-marker")
    assert after["rules"] == before["rules"]
    assert [p for p in after["penalties"] if ":acct-marker:" not in p] == before["penalties"]


def test_an_operator_writes_penalties_and_audit_but_not_rules(
    sandbox: Sandbox, acl_broker: AclBroker
) -> None:
    operator = logged_in(sandbox, acl_broker, "riskstream-operator")
    names = operator.settings.topics
    write(operator.settings, names.penalties, *allow_entry("acct-9"))
    write(operator.settings, names.audit, b"line", dumps({"actor": "olga", "seq": 0}))
    with pytest.raises(TopicAuthorizationFailedError):
        write(operator.settings, names.rules, b"velocity", dumps({"rule_id": "velocity"}))

    listed = run_cli(operator, "rules", "list")  # the rules topic is not the operator's
    assert listed.returncode == 1
    assert len(listed.stderr.strip().splitlines()) == 1, listed.stderr
    assert "this Kafka login may not read it" in listed.stderr
