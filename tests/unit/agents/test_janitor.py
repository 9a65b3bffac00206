from __future__ import annotations

from riskstream.agents.janitor import expired, sweep
from riskstream.streams.codec import dumps
from riskstream.tables.entity_state import EntityState
from tests.unit.rules.harness import pack_rule

DAY = 86_400_000
RULES = pack_rule("velocity.device")


def record(last_seen_ms: int) -> bytes:
    return dumps(EntityState(watermark_ms=last_seen_ms, last_seen_ms=last_seen_ms).to_wire())


def test_silent_entities_expire_after_the_retention() -> None:
    now = 1000 * DAY
    fresh, stale = record(now - 10 * DAY), record(now - 401 * DAY)
    assert not expired(
        b"acc", fresh, rekeyed=False, rules=RULES, now_ms=now, retention_ms=400 * DAY
    )
    assert expired(b"acc", stale, rekeyed=False, rules=RULES, now_ms=now, retention_ms=400 * DAY)


def test_rekeyed_records_of_keys_no_rule_uses_expire_at_once() -> None:
    now = 1000 * DAY
    live = b"event.device_id\x1fdev-1"
    gone = b"event.ip\x1f10.0.0.1"
    fresh = record(now)
    assert not expired(live, fresh, rekeyed=True, rules=RULES, now_ms=now, retention_ms=DAY)
    assert expired(gone, fresh, rekeyed=True, rules=RULES, now_ms=now, retention_ms=DAY)


def test_sweep_deletes_only_the_expired() -> None:
    now = 1000 * DAY
    table = {
        b"event.device_id\x1fdev-1": record(now),
        b"event.device_id\x1fdev-2": record(now - 30 * DAY),
        b"event.ip\x1f10.0.0.1": record(now),
    }
    assert sweep(table, rekeyed=True, rules=RULES, now_ms=now, retention_ms=7 * DAY) == 2
    assert list(table) == [b"event.device_id\x1fdev-1"]
