"""Producing scenario traffic and reading outputs back, for integration tests."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka.admin import NewTopic

from riskstream.agents.cep.compiler import RuleSet
from riskstream.agents.rule_center import RuleCenter
from riskstream.offline.native import NativeReplay
from riskstream.offline.rules import rule_center
from riskstream.simulation.event import Kind, SimEvent
from riskstream.simulation.traffic import SimConfig, TrafficSimulator
from riskstream.streams.codec import loads
from riskstream.streams.kafka_io import Record, consume, producer, topic_for
from riskstream.streams.settings import Settings
from riskstream.streams.topics import admin_client
from tests.integration.conftest import KAFKA_SCRIPT
from tests.unit.factories import account_event, txn

CROSS_TOPIC_PATTERNS = frozenset({"account_takeover"})


def traffic(seed: int = 11, accounts: int = 120) -> list[SimEvent]:
    config = SimConfig(
        seed=seed,
        accounts=accounts,
        duration=timedelta(minutes=30),
        end=datetime.now(UTC).replace(microsecond=0),
        velocity_attacks=3,
        takeovers=3,
        large_spends=1,
    )
    return TrafficSimulator(config).events()


def expected_signals(
    events: Iterable[SimEvent], rules: RuleSet | None = None
) -> dict[str, dict[str, object]]:
    """What the core concludes from the events, by signal id: their replay (in event-time
    order, as ``riskstream replay`` runs it) under the shipped rules or ``rules``."""
    center = rule_center() if rules is None else RuleCenter([r.doc for r in rules.rules.values()])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        path.write_bytes(b"".join(event.encode() + b"\n" for event in events))
        replay = NativeReplay(center)
        bad = replay.load(path)
        assert bad == [], bad
        _, signals, _ = replay.run(len(replay))
    return {signal.signal_id: signal.model_dump(mode="json") for signal in signals}


def send(settings: Settings, events: Iterable[SimEvent], rate: float | None = None) -> int:
    sink = producer(settings)
    started = time.monotonic()
    count = 0
    for event in events:
        if rate:
            delay = started + count / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sink.send(topic_for(settings, event), key=event.key, value=event.encode())
        count += 1
    sink.flush()
    sink.close()
    return count


def send_raw(
    settings: Settings,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes]],
    partition: int | None = None,
) -> None:
    sink = producer(settings)
    for key, value in records:
        sink.send(topic, key=key, value=value, partition=partition)
    sink.flush()
    sink.close()


def create_topic(settings: Settings, name: str, *, max_message_bytes: int) -> None:
    """``name`` with the partitions a worker would give it, and its own size limit."""
    admin = admin_client(settings)
    try:
        config = {"max.message.bytes": str(max_message_bytes)}
        admin.create_topics([NewTopic(name, settings.partitions, 1, topic_configs=config)])
    finally:
        admin.close()


def read_all(settings: Settings, topic: str, idle_s: float = 2.0) -> list[Record]:
    return list(consume(settings, topic, idle_timeout_s=idle_s))


def wait_for_signals(
    settings: Settings, want: set[str], timeout_s: float = 90.0, settle_s: float = 2.0
) -> list[Record]:
    """Read the signal topic until every wanted id is there, then a little longer."""
    deadline = time.monotonic() + timeout_s
    records: list[Record] = []
    while time.monotonic() < deadline:
        records = read_all(settings, settings.topics.signals, idle_s=1.0)
        if want <= {loads(record.value)["signal_id"] for record in records}:
            time.sleep(settle_s)
            return read_all(settings, settings.topics.signals, idle_s=1.0)
        time.sleep(0.5)
    return records


def signal_counts(records: Iterable[Record]) -> Counter[str]:
    return Counter(loads(record.value)["signal_id"] for record in records)


def assert_same_signals(records: list[Record], expected: dict[str, dict[str, object]]) -> int:
    """Every expected signal exactly as computed offline, nothing else; returns redeliveries.

    A redelivered record must be byte-identical to the first (same id, same content), so
    a consumer that dedupes by ``signal_id`` sees each detection exactly once.
    """
    by_id: dict[str, bytes] = {}
    redeliveries = 0
    for record in records:
        body = loads(record.value)
        signal_id = body["signal_id"]
        if signal_id in by_id:
            assert record.value == by_id[signal_id], f"{signal_id} redelivered with other content"
            redeliveries += 1
        by_id[signal_id] = record.value
        assert record.key == str(body["entity_id"]).encode()
    assert set(by_id) == set(expected), (
        f"missing {set(expected) - set(by_id)}, unexpected "
        f"{[loads(by_id[key]) for key in set(by_id) - set(expected)]}"
    )
    for signal_id, value in by_id.items():
        assert comparable(loads(value)) == comparable(expected[signal_id])
    return redeliveries


def comparable(body: dict[str, object]) -> dict[str, object]:
    """The part of a signal that cannot depend on how two topics interleave.

    A takeover joins the account-events and transactions topics, which a consumer reads
    at their own pace; which of two recent credential changes it cites may vary.
    """
    if body["pattern"] in CROSS_TOPIC_PATTERNS:
        return {key: value for key, value in body.items() if key not in {"evidence", "aggregates"}}
    return body


def split_patterns() -> tuple[list[SimEvent], list[SimEvent]]:
    """A velocity burst and a takeover, each cut in two by the restart.

    Neither half fires on its own: the second half fires only if the window state
    written before the restart is still there after it.
    """

    def wrap(event: object) -> SimEvent:
        payload = event.model_dump()  # type: ignore[attr-defined]
        kind: Kind = "transaction" if "amount" in payload else "account_event"
        return SimEvent(kind, payload)

    base = time.time() - 3600
    offset = base - txn("x", 0).occurred_at.timestamp()
    burst = [wrap(txn(f"split-v{n}", offset + n * 5, 2, account="acct-split")) for n in range(16)]
    takeover = [
        wrap(account_event("split-pw", offset + 10, account="acct-split-ato")),
        wrap(txn("split-w", offset + 300, 4000, type="withdrawal", account="acct-split-ato")),
    ]
    return burst[:6] + takeover[:1], burst[6:] + takeover[1:]


@contextmanager
def sasl_ssl_broker(
    port: int, passwords: dict[str, str], super_users: str, state_dir: Path
) -> Iterator[tuple[str, Path]]:
    """The project's broker in its SASL_SSL mode (``deploy/local/kafka.sh``), with the
    given SCRAM users: (bootstrap address, the CA file of its TLS certificate)."""
    env = {
        **os.environ,
        "KAFKA_SECURITY": "sasl_ssl",
        "KAFKA_PORT": str(port),
        "KAFKA_RESET": "1",
        "KAFKA_SASL_USERS": " ".join(f"{user}:{password}" for user, password in passwords.items()),
        "KAFKA_SUPER_USERS": super_users,
        "RISKSTREAM_KAFKA_DIR": str(state_dir),
    }
    script = str(KAFKA_SCRIPT)
    started = subprocess.run(
        ["bash", script, "start"], env=env, capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        pytest.fail(f"could not start the SASL_SSL broker:\n{started.stdout}\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1], state_dir / "tls" / "ca.pem"
    finally:
        subprocess.run(["bash", script, "stop"], env=env, check=False)
