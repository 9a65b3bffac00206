"""A worker started on state records of the previous format (the Python engine's JSON)
converts them on first touch and loses nothing: the windows they hold still count."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from kafka.admin import NewTopic

from riskstream.agents.rekey import partition_of
from riskstream.simulation.event import SimEvent
from riskstream.streams.topics import admin_client, create_topics
from riskstream.tables.faust_tables import ACCOUNT_STATE, ENTITY_STATE
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import (
    assert_same_signals,
    expected_signals,
    read_all,
    send,
    send_raw,
    wait_for_signals,
)

pytestmark = pytest.mark.integration
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "legacy_state.json"


def sim_events(payloads: list[dict[str, object]]) -> list[SimEvent]:
    return [
        SimEvent("transaction" if "amount" in payload else "account_event", payload)
        for payload in payloads
    ]


def test_records_of_the_previous_format_keep_their_windows(
    sandbox: Sandbox, worker: Worker
) -> None:
    fixture = orjson.loads(FIXTURE.read_bytes())
    old, new = sim_events(fixture["old"]), sim_events(fixture["new"])
    settings = sandbox.settings
    partitions = settings.partitions
    expected = expected_signals(old + new)
    fired_by = {body["rule_id"] for body in expected.values()}
    # Each needs the old events' counts: 8 + 3 payments > 10, 20 + 3 on the device > 20,
    # and the password change before the withdrawal.
    assert fired_by == {"velocity.account", "velocity.device", "account_takeover"}
    assert expected_signals(old) == {}, "the old events alone fire nothing"

    # The changelogs as the previous worker left them (Faust names them after the app).
    create_topics(settings)
    changelog = {
        table: f"{settings.app_id}-{table}-changelog" for table in (ACCOUNT_STATE, ENTITY_STATE)
    }
    admin = admin_client(settings)
    admin.create_topics(
        [
            NewTopic(name, partitions, 1, topic_configs={"cleanup.policy": "compact"})
            for name in changelog.values()
        ]
    )
    admin.close()
    for record in fixture["records"]:
        key = record["key"].encode()
        send_raw(
            settings,
            changelog[record["table"]],
            [(key, record["value"].encode())],
            partition=partition_of(record["key"], partitions),
        )

    worker.start()
    send(settings, new)
    worker.wait_for("applied", len(new))
    records = wait_for_signals(settings, set(expected))
    assert_same_signals(records, expected)
    stats = worker.stats()
    assert stats["unreadable_records"] == 0 and stats["failed"] == 0, stats
    # Every record the new events touched is now in the core's format.
    latest: dict[bytes, bytes] = {}
    for name in changelog.values():
        for item in read_all(settings, name):
            if item.key is not None and item.value is not None:
                latest[item.key] = item.value
    touched = [b"acct-legacy", b"acct-legacy-ato", b"event.device_id\x1fdev-legacy"]
    for key in touched:
        assert latest[key][:1] == b"\xa7", (key, latest[key][:40])
