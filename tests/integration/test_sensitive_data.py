"""No card, CVV, phone or national id number in the clear, anywhere the worker writes.

A test card number with its CVV, a phone and a national id number go through the real
pipeline (ingest, the re-key topic, the state and its changelogs, signals, dead letters)
and the scorer's HTTP answers; then every topic of the test, every file of the worker's
data directory, its log and the answers are searched for them.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from riskstream.streams.codec import dumps, loads
from riskstream.streams.kafka_io import Record
from riskstream.streams.outputs import DeadLetterHeaders
from riskstream.streams.settings import Settings
from riskstream.streams.topics import admin_client
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import read_all, send_raw

pytestmark = pytest.mark.integration

PAN = "4111111111111111"
CVV = "913"
PHONE = "13800138000"
NATIONAL_ID = "11010519491231002X"
# The forms each may take in bytes; the CVV is short, so it is searched as a JSON value.
CLEAR = [PAN.encode(), b"4111 1111 1111 1111", b"4111-1111-1111-1111", PHONE.encode(),
         b"138 0013 8000", NATIONAL_ID.encode(), f'"{CVV}"'.encode()]  # fmt: skip
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def clear_values_in(data: bytes) -> list[bytes]:
    lowered = data.lower()
    return [value for value in CLEAR if value.lower() in lowered]


def payment(second: int, amount: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"pci-{uuid.uuid4().hex[:10]}", "type": "payment",
        "occurred_at": (START + timedelta(seconds=second)).isoformat().replace("+00:00", "Z"),
        "account_id": f"acct-pci-{second % 3}", "amount": amount, "currency": "CNY",
        # Each card and phone written several ways: every one is the same token.
        "instrument_id": ["4111 1111 1111 1111", "4111-1111-1111-1111", PAN][second % 3],
        "phone": [PHONE, "138 0013 8000"][second % 2],
        "attributes": {"cvv": CVV, "national_id": NATIONAL_ID, "note": f"card {PAN}"},
        **extra,
    }  # fmt: skip


def signals_of(settings: Settings, timeout_s: float = 60.0) -> list[Record]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = read_all(settings, settings.topics.signals, idle_s=1.0)
        if found:
            return found
    return []


def test_sensitive_values_are_nowhere_in_the_clear(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    worker.start()
    # Five probes and a large charge on one card: card_testing signals its instrument.
    events = [payment(n, "1.00") for n in range(5)] + [payment(10, "900.00")]
    records = [(event["account_id"].encode(), dumps(event)) for event in events]
    records += [
        (PAN.encode(), dumps(payment(20, "-5"))),  # invalid: dead-lettered, masked
        (None, f'{{"card": "{PAN}", "cvv": "{CVV}", "phone": "{PHONE}" broken'.encode()),
    ]
    send_raw(settings, settings.topics.transactions, records)
    worker.wait_for("applied", len(events))
    (signal,) = signals_of(settings)
    body = loads(signal.value)
    assert body["entity_type"] == "instrument" and body["entity_id"].startswith("tok_pan_")

    answers = [
        worker.call("POST", "/score/", dumps(payment(30, "950.00")), role="scorer"),
        worker.call("GET", f"/profiles/instrument/{PAN}/", role="analyst"),
        worker.call("POST", "/score/", dumps(payment(31, "x")), role="scorer"),
        worker.call("POST", "/penalties/", dumps({
            "entity_type": "instrument", "entity_id": PAN, "kind": "block",
            "reason": f"card {PAN} tested", "ttl": "1h"}), role="operator", subject="alice"),
    ]  # fmt: skip
    assert [answer.status_code for answer in answers] == [200, 200, 422, 201]
    profile = answers[1].json()
    assert profile["entity_id"] == body["entity_id"]  # looked up by the card's token
    assert [s["rule_id"] for s in profile["signals"]] == ["card_testing"]
    for answer in answers:
        assert clear_values_in(answer.content) == [], answer.text

    letters = read_all(settings, settings.topics.dead_letter)
    assert len(letters) == 2
    assert {letter.headers[DeadLetterHeaders.MASKED] for letter in letters} == {
        b"nid,pan,phone,secret", b"pan,phone,secret",
    }  # fmt: skip
    assert worker.stop() == 0  # RocksDB and the changelogs flushed

    tag = settings.app_id.removeprefix("it-")
    admin = admin_client(settings)
    try:
        topics = sorted(name for name in admin.list_topics() if tag in name)
    finally:
        admin.close()
    # The input topic holds what upstream sent, clear values included (which shows the
    # search finds them): every topic but it is searched.
    topics.remove(settings.topics.transactions)
    sent = read_all(settings, settings.topics.transactions, idle_s=1.0)
    assert len(clear_values_in(b"".join(record.value for record in sent))) == len(CLEAR)
    assert any("changelog" in name for name in topics)
    assert any("rekey" in name for name in topics)
    searched = 0
    for topic in topics:
        for record in read_all(settings, topic, idle_s=1.0):
            parts = [record.key or b"", record.value or b"", *record.headers.values()]
            found = clear_values_in(b"\0".join(parts))
            assert found == [], f"{topic} offset {record.offset}: {found}"
            searched += 1
    assert searched >= len(events) * 3  # inputs, re-keyed, state, signals, decisions ...

    files = [path for path in sandbox.data_dir.rglob("*") if path.is_file()]
    assert any(path.suffix == ".sst" or path.name.endswith(".log") for path in files)
    for path in files:
        assert clear_values_in(path.read_bytes()) == [], path
    log = worker.log_path.read_bytes()
    assert b"dead-lettered" in log
    assert clear_values_in(log) == []
