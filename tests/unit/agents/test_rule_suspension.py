"""A rule too slow to run, suspended on every worker: the record, the rule center's
handling of it, and the worker that publishes it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import orjson
import pytest

from riskstream.agents.rule_center import RuleCenter, encode_rule, follow_rules_topic
from riskstream.agents.rule_suspender import RuleSuspender
from riskstream.rules.loader import default_score_rules
from riskstream.streams.audit_chain import AuditChain, verify
from riskstream.streams.rule_suspension import SuspensionError, parse_suspension
from riskstream.streams.scoring_model import AuditRecord
from tests.unit.agents.test_rule_center import rule_record


def suspension(rule_id: str = "attack.ttl", version: int = 1, kind: str = "detect") -> bytes:
    # Raw JSON, not the model: a test may need a record that the model would refuse.
    return orjson.dumps({
        "rule_id": rule_id, "version": version, "kind": kind, "took_ms": 250.0,
        "budget_ms": 100.0, "worker": "worker:riskstream:host-2", "at": datetime.now(UTC),
    })  # fmt: skip


def test_a_suspension_disables_the_version_in_force_on_this_worker_too() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record(version=3)) is None
    center.apply_suspension(b"attack.ttl", suspension(version=3), offset=7)
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert (doc.mode, doc.version) == ("disabled", 3)
    assert not center.counts("attack.ttl", 3)
    [refusal] = center.refusals
    assert refusal.offset == 7
    assert refusal.error == (
        "rule attack.ttl v3 disabled: one evaluation took 250 ms on "
        "worker:riskstream:host-2, the budget is 100 ms"
    )
    # Nothing for this worker to publish again: it did not time the rule itself.
    assert center.suspend_slow([("attack.ttl", 900.0)], 100.0) == []


def test_a_suspension_read_before_its_rule_disables_the_rule_when_it_arrives() -> None:
    # The rules and the suspensions topics are read side by side at a start.
    center = RuleCenter([])
    center.apply_suspension(b"attack.ttl", suspension(version=2))
    assert center.doc("attack.ttl") is None
    assert center.apply(b"attack.ttl", rule_record(version=2)) is None
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert doc.mode == "disabled"
    [refusal] = center.refusals
    assert refusal.error.endswith("on worker:riskstream:host-2, the budget is 100 ms")


def test_only_a_new_version_lifts_a_suspension() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record(version=2)) is None
    center.apply_suspension(b"attack.ttl", suspension(version=2))
    # An older suspension, or one for a version long gone, changes nothing.
    center.apply_suspension(b"attack.ttl", suspension(version=1))
    assert center.apply(b"attack.ttl", rule_record(version=3)) is None
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert (doc.mode, doc.version) == ("active", 3)
    assert center.counts("attack.ttl", 3)
    center.apply_suspension(b"attack.ttl", suspension(version=2))
    assert center.counts("attack.ttl", 3)
    # One naming a version not pushed yet (a bad record) does not shield the one in force.
    center.apply_suspension(b"attack.ttl", suspension(version=999))
    assert center.counts("attack.ttl", 3)
    center.apply_suspension(b"attack.ttl", suspension(version=3))
    assert not center.counts("attack.ttl", 3)


def test_a_scoring_rule_is_suspended_too() -> None:
    score_rule = default_score_rules()[0]
    center = RuleCenter([], [score_rule])
    told = center.suspend_slow([(score_rule.id, 180.0)], 100.0)
    assert told == [(score_rule.id, score_rule.version, "score", 180.0)]
    assert center.score_rules[score_rule.id].doc.mode == "disabled"
    assert center.suspend_slow([(score_rule.id, 180.0)], 100.0) == []
    # A worker that restarts reads its own suspension back.
    restarted = RuleCenter([], [score_rule])
    restarted.apply_suspension(
        score_rule.id.encode(), suspension(score_rule.id, score_rule.version, "score")
    )
    assert restarted.score_rules[score_rule.id].doc.mode == "disabled"
    newer = score_rule.model_copy(update={"version": score_rule.version + 1})
    assert restarted.apply(score_rule.id.encode(), encode_rule(newer)) is None
    assert restarted.score_rules[score_rule.id].doc.mode == "active"


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        (b"attack.ttl", None, "a tombstone lifts nothing"),
        (b"attack.ttl", b"{not json", "not JSON"),
        (b"attack.ttl", b"[]", "not a suspension"),
        (b"attack.ttl", b'{"rule_id": "attack.ttl", "version": 1}', "not a suspension"),
        (b"other", None, "a tombstone"),
        (b"other.rule", suspension(), "the record key is not the rule id attack.ttl"),
        (None, suspension(), "the record key is not the rule id"),
        (b"attack.ttl", b" " * 5000 + suspension(), "a suspension is at most 4096"),
        (b"attack.ttl", suspension(version=0), r"not a suspension \(version\)"),
    ],
)
def test_a_record_that_is_no_suspension_is_refused_without_changing_a_rule(
    key: bytes | None, value: bytes | None, why: str
) -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record()) is None
    with pytest.raises(SuspensionError, match=why):
        center.apply_suspension(key, value)
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert doc.mode == "active"


def test_a_suspension_never_enables_or_changes_a_rule() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record(mode="shadow", severity=10)) is None
    center.apply_suspension(b"attack.ttl", suspension())
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert (doc.mode, doc.severity) == ("disabled", 10)
    extra = orjson.loads(suspension())
    extra["mode"] = "active"
    with pytest.raises(SuspensionError, match="not a suspension"):
        center.apply_suspension(b"attack.ttl", orjson.dumps(extra))


def test_suspensions_of_rules_not_in_force_are_remembered_within_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("riskstream.agents.rule_center.MAX_SUSPENDED", 3)
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record()) is None
    for name in ("a.1", "a.2", "a.3"):
        center.apply_suspension(name.encode(), suspension(name))
    with pytest.raises(SuspensionError, match="3 suspensions are remembered"):
        center.apply_suspension(b"a.4", suspension("a.4"))
    # A rule in force is always suspended.
    center.apply_suspension(b"attack.ttl", suspension())
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert doc.mode == "disabled"


class Broker:
    """Where the suspender writes: the audit trail and the suspensions topic, in order."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.chain = AuditChain("worker:riskstream:host-1")
        self.written: list[tuple[str, bytes, bytes]] = []

    async def store_audit(self, record: AuditRecord, key: bytes) -> None:
        if self.fail:
            raise ConnectionError("broker gone")
        self.written.append(("audit", key, self.chain.seal(record)))

    async def send(self, key: bytes, value: bytes) -> None:
        self.written.append(("suspensions", key, value))


async def test_a_worker_publishes_a_slow_rule_once_audit_line_first() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record(version=4)) is None
    broker = Broker()
    suspender = RuleSuspender(center, "worker:riskstream:host-1", broker.store_audit, broker.send)
    suspender.on_slow([("attack.ttl", 250.0)], 100.0)
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert doc.mode == "disabled", "disabled here at once, before the broker answers"
    suspender.on_slow([("attack.ttl", 300.0)], 100.0)
    await suspender.drain()
    assert [(topic, key) for topic, key, _ in broker.written] == [
        ("audit", b"attack.ttl"),
        ("suspensions", b"attack.ttl"),
    ]
    line = orjson.loads(broker.written[0][2])
    assert (line["action"], line["actor"]) == ("rule-suspend", "worker:riskstream:host-1")
    assert line["reason"] == (
        "rule attack.ttl v4 disabled: one evaluation took 250 ms on "
        "worker:riskstream:host-1, the budget is 100 ms"
    )
    assert verify([(0, broker.written[0][2])]).broken is None
    published = parse_suspension(broker.written[1][1], broker.written[1][2])
    assert (published.version, published.took_ms, published.kind) == (4, 250.0, "detect")
    # Read back from the topic, by this worker or another: nothing is published again.
    center.apply_suspension(b"attack.ttl", broker.written[1][2])
    other = RuleCenter([])
    assert other.apply(b"attack.ttl", rule_record(version=4)) is None
    other_suspender = RuleSuspender(other, "worker:2", broker.store_audit, broker.send)
    other.apply_suspension(b"attack.ttl", broker.written[1][2])
    other_suspender.on_slow([("attack.ttl", 250.0)], 100.0)
    await other_suspender.drain()
    assert len(broker.written) == 2


async def test_a_suspension_out_of_bounds_stays_on_this_worker() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record()) is None
    broker = Broker()
    suspender = RuleSuspender(center, "w" * 300, broker.store_audit, broker.send)
    suspender.on_slow([("attack.ttl", 250.0)], 100.0)  # does not raise
    await suspender.drain()
    assert broker.written == []
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert doc.mode == "disabled"


async def test_a_suspension_overtaken_by_a_new_version_is_not_published() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record(version=1)) is None
    broker = Broker()
    suspender = RuleSuspender(center, "worker:1", broker.store_audit, broker.send)
    suspender.on_slow([("attack.ttl", 250.0)], 100.0)
    assert center.apply(b"attack.ttl", rule_record(version=2)) is None
    await suspender.drain()
    assert broker.written == []


async def test_a_suspension_that_cannot_be_published_stays_on_this_worker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record()) is None
    broker = Broker(fail=True)
    suspender = RuleSuspender(center, "worker:1", broker.store_audit, broker.send)
    with caplog.at_level(logging.ERROR):
        suspender.on_slow([("attack.ttl", 250.0)], 100.0)
        await asyncio.wait_for(suspender.drain(), 5)
    assert broker.written == [], "no suspension without its audit line"
    assert "disabled on this worker only" in caplog.text
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert doc.mode == "disabled"


async def test_the_rules_are_ready_once_both_topics_are_read_or_the_wait_is_over(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ready: dict[str, asyncio.Event] = {}

    async def follow(
        connection: object,
        topic: str,
        apply: object,
        done: asyncio.Event,
        stop: object = None,
        freshness: object = None,
    ) -> None:
        ready[topic] = done
        await asyncio.Event().wait()  # follows for ever

    monkeypatch.setattr("riskstream.agents.rule_center.follow_topic", follow)
    monkeypatch.setattr("riskstream.agents.rule_center.SUSPENSIONS_WAIT_S", 0.2)
    center = RuleCenter([])
    task = asyncio.create_task(
        follow_rules_topic(center, {}, "risk.rules", suspensions="risk.rule-suspensions")
    )
    try:
        await asyncio.sleep(0.05)
        ready["risk.rules"].set()
        await asyncio.sleep(0.05)
        assert not center.ready.is_set(), "not before the suspensions are read"
        ready["risk.rule-suspensions"].set()
        await asyncio.wait_for(center.ready.wait(), 1)

        # A suspensions topic that cannot be read holds the worker back only so long.
        late = RuleCenter([])
        stuck = asyncio.create_task(
            follow_rules_topic(late, {}, "rules-2", suspensions="suspensions-2")
        )
        await asyncio.sleep(0.05)
        ready["rules-2"].set()
        with caplog.at_level(logging.ERROR):
            await asyncio.wait_for(late.ready.wait(), 2)
        assert "suspensions-2 not read within" in caplog.text
        stuck.cancel()
    finally:
        task.cancel()
