"""Every rule of the default pack, live: its scenario and its near miss through a worker;
and parity: ``riskstream replay`` on the same events concludes what the worker does.

One stream mixes a positive and a negative scenario for each of the 16 rules (about
400 events over 200 days of event time, on all three input topics). The worker must
conclude what the functional core concludes from the same stream.

Some scenarios feed their entity from several streams: an account's logins and its
payments (two topics), or one device, IP, card or merchant used by many accounts (many
partitions). The consumer interleaves those streams as it happens to read them, and a
sliding window or a sequence then names the window or pair where the rule first held
in *arrival* order: the rule fires all the same, but the signal id and its evidence can
differ from the offline run. For those entities the test compares which rule fired on
which entity; for every single-stream entity it compares the signals themselves, id
and content.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from riskstream.simulation.event import SimEvent
from riskstream.simulation.scenarios import build_all, pack_rule_ids, stream
from riskstream.streams.codec import loads
from riskstream.streams.kafka_io import Record
from riskstream.streams.settings import Settings
from tests.integration.conftest import ROOT, Sandbox, Worker
from tests.integration.helpers import comparable, expected_signals, read_all, send

pytestmark = pytest.mark.integration

Key = tuple[str, str, str]  # rule id, entity type, entity id


def send_by_kind(settings: Settings, events: Iterable[SimEvent]) -> int:
    return send(settings, events)


def key_of(body: dict[str, object]) -> Key:
    return str(body["rule_id"]), str(body["entity_type"]), str(body["entity_id"])


def wait_for(
    settings: Settings, ids: set[str], keys: set[Key], timeout_s: float = 120.0
) -> list[Record]:
    """Read the signal topic until every wanted id and key is there, then a little longer."""
    deadline = time.monotonic() + timeout_s
    records: list[Record] = []
    while time.monotonic() < deadline:
        records = read_all(settings, settings.topics.signals, idle_s=1.0)
        bodies = [loads(record.value) for record in records]
        if ids <= {body["signal_id"] for body in bodies} and keys <= set(map(key_of, bodies)):
            time.sleep(3.0)
            return read_all(settings, settings.topics.signals, idle_s=1.0)
        time.sleep(0.5)
    return records


def replayed_signals(sandbox: Sandbox, events: list[SimEvent], folder: Path) -> dict[str, Any]:
    """The signals ``riskstream replay`` writes for the events, by id: the core's replay,
    which the conformance cases (``tests/conformance/engine/``) pin."""
    source, signals = folder / "events.jsonl", folder / "signals.jsonl"
    source.write_bytes(b"".join(event.encode() + b"\n" for event in events))
    done = subprocess.run(
        [sys.executable, "-m", "riskstream", "replay", str(source), "--signals", str(signals)],
        env=sandbox.env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bodies = [loads(line) for line in signals.read_bytes().splitlines()]
    assert len({body["signal_id"] for body in bodies}) == len(bodies)  # each once
    return {body["signal_id"]: body for body in bodies}


def test_every_pack_rule_fires_live_on_its_scenario_and_not_on_its_near_miss(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    scenarios = build_all(base, seed=11, evasive=False)  # every rule has its fraud
    events = stream(scenarios)
    # The offline replay, through its command, is what the live worker is held to.
    expected = replayed_signals(sandbox, events, tmp_path)
    assert expected == expected_signals(events)
    # Entities fed by more than one stream: compared by rule and entity only.
    interleaved = {
        (item.rule_id, item.entity_type, item.entity_id)
        for item in scenarios
        if len(item.sources) > 1
    }
    # ... and any other signal whose evidence comes from several streams (a story's
    # devices, say, that its many accounts share).
    stream_of = {str(e.payload["event_id"]): (e.kind, str(e.payload["account_id"])) for e in events}
    interleaved |= {
        key_of(body)
        for body in expected.values()
        if len({stream_of[event_id] for event_id in body["evidence"]}) > 1
    }
    exact = {sid: body for sid, body in expected.items() if key_of(body) not in interleaved}
    want_keys = {key_of(body) for body in expected.values()}
    positives: set[Key] = {
        (item.rule_id, item.entity_type, item.entity_id) for item in scenarios if item.positive
    }
    assert positives <= want_keys  # the offline run itself sees every positive
    assert {key[0] for key in want_keys} == pack_rule_ids()

    worker.start()
    assert send_by_kind(settings, events) == len(events)
    records = wait_for(settings, set(exact), want_keys)

    by_id: dict[str, bytes] = {}
    for record in records:
        body = loads(record.value)
        assert record.key == str(body["entity_id"]).encode()
        # A redelivery must be byte-identical, so consumers can dedupe by signal id.
        assert by_id.setdefault(body["signal_id"], record.value) == record.value
    live = {sid: loads(value) for sid, value in by_id.items()}
    live_keys = {key_of(body) for body in live.values()}

    # (a) What the functional core computes: the same signals where one stream feeds
    # the entity, the same rules on the same entities where several do.
    assert live_keys == want_keys, (
        f"missing {want_keys - live_keys}, unexpected {live_keys - want_keys}"
    )
    live_exact = {sid: body for sid, body in live.items() if key_of(body) not in interleaved}
    assert set(live_exact) == set(exact)
    for signal_id, body in live_exact.items():
        assert comparable(body) == comparable(exact[signal_id]), signal_id

    # (b) Every rule of the pack fired on the entity of its positive scenario.
    assert positives <= live_keys
    assert {key[0] for key in positives} == pack_rule_ids()

    # (c) No signal at all on the entity of a near miss (a hard negative may alert: it
    # is legitimate behaviour over the rule's thresholds).
    for item in scenarios:
        if not item.positive and not item.may_alert:
            hits = [key for key in live_keys if key[2] == item.entity_id]
            assert hits == [], (item.label, hits)

    stats = worker.wait_for("received", len(events))
    assert stats["dead_lettered"] == 0
    assert stats["duplicates"] == 0
    # Every event was judged by its account: applied, or too late for the account's
    # own windows (an old payment read after its account's much newer feedback).
    assert stats["applied"] + stats["late"] == len(events)
