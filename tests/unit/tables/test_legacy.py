"""Records of the previous format convert into the core's, windows intact (no broker:
the integration test ``test_migration`` does the same through a worker)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from riskstream.agents.live_rules import LiveRules, projection
from riskstream.agents.validation import event_from_mapping
from riskstream.rules.loader import default_ruleset
from riskstream.tables.legacy import import_document, is_legacy

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "legacy_state.json"
RULESET = default_ruleset()


def test_windows_of_converted_records_count_the_old_events() -> None:
    fixture = orjson.loads(FIXTURE.read_bytes())
    snapshot = LiveRules(0).snapshot(RULESET)
    engine = snapshot.engine
    table: dict[tuple[int, str], bytes] = {}
    for record in fixture["records"]:
        key: str = record["key"]
        group = (
            0
            if record["table"] == "account-state"
            else engine.group_of(key.split("\x1f", maxsplit=1)[0])
        )
        assert group is not None
        value = record["value"].encode()
        assert is_legacy(value)
        value_key = key.rsplit("\x1f", maxsplit=1)[-1]
        converted = snapshot.current(group, value)
        assert converted is not None and not is_legacy(converted)
        table[(group, value_key)] = converted
    fired: set[str] = set()
    for payload in fixture["new"]:
        event = event_from_mapping(payload)
        _, core_event = projection(event)
        targets = [(0, event.account_id), *engine.routes(core_event)]
        for group, value in targets:
            [(record, outcomes, unreadable, _)] = engine.apply(
                [(group, value, table.get((group, value)), [core_event])]
            )
            assert unreadable is None
            table[(group, value)] = record
            for _, signals, _, error in outcomes:
                assert error is None
                fired |= {snapshot.signal(item).rule_id for item in signals}
    assert fired == {"velocity.account", "velocity.device", "account_takeover"}


def test_a_damaged_old_record_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="previous format"):
        import_document(b'{"w": 1}')
    snapshot = LiveRules(0).snapshot(RULESET)
    with pytest.raises(ValueError):
        snapshot.engine.import_state(0, b'{"watermark_ms": "x"}')
