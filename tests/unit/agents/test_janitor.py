from __future__ import annotations

from riskstream.agents.janitor import expired, expired_keys
from riskstream.agents.live_rules import projection_bytes
from riskstream.agents.plan import plan_of
from riskstream.core import LiveEngine
from tests.unit.rules.harness import pack_rule

DAY = 86_400_000
RULES = pack_rule("velocity.device")


def record(last_seen_ms: int) -> bytes:
    """The account record of one login at ``last_seen_ms``, as the core writes it."""
    fields = {
        "event_id": f"e-{last_seen_ms}",
        "type": "login",
        "account_id": "acc",
        "ts": last_seen_ms / 1000,
        "hour": 0,
        "kind": "account_event",
    }
    engine = LiveEngine(plan_of(RULES), 0)
    [(raw, _, _, _)] = engine.apply([(0, "acc", None, [projection_bytes(last_seen_ms, fields)])])
    return raw


def test_records_not_written_by_the_core_are_left_alone() -> None:
    legacy = b'{"w":1,"e":[],"s":{},"f":[],"b":{},"p":[-1,1,0,0],"t":[]}'
    assert not expired(
        b"acc", legacy, rekeyed=False, rules=RULES, now_ms=400 * DAY, retention_ms=DAY
    )


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


def test_only_the_expired_are_found_in_each_partition() -> None:
    now = 1000 * DAY
    partitions = [
        (0, [(b"event.device_id\x1fdev-1", record(now)), (b"event.ip\x1f10.0.0.1", record(now))]),
        (1, []),
        (3, [(b"event.device_id\x1fdev-2", record(now - 30 * DAY))]),
    ]
    found = expired_keys(partitions, rekeyed=True, rules=RULES, now_ms=now, retention_ms=7 * DAY)
    assert found == {0: [b"event.ip\x1f10.0.0.1"], 3: [b"event.device_id\x1fdev-2"]}
