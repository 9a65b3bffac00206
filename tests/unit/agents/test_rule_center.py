from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from riskstream.agents.rule_center import RuleCenter, encode_rule
from riskstream.rules.loader import default_pack, default_score_rules


def test_the_rules_version_follows_every_change_and_only_changes() -> None:
    pack, scoring = default_pack(), default_score_rules()
    center = RuleCenter(pack, scoring)
    original = center.version
    assert center.version == original  # asked twice, nothing changed

    score_rule, detect_rule = scoring[0], pack[0]
    assert center.apply(score_rule.id.encode(), None) is None
    without_score_rule = center.version
    assert without_score_rule != original
    assert center.apply(detect_rule.id.encode(), None) is None
    assert center.version not in {original, without_score_rule}

    assert center.apply(score_rule.id.encode(), encode_rule(score_rule)) is None
    assert center.apply(detect_rule.id.encode(), encode_rule(detect_rule)) is None
    assert center.version == original  # the same rules in force: the same digest

    refused = center.apply(detect_rule.id.encode(), b"{not json")
    assert refused is not None
    assert center.version == original


def rule_record(**changes: object) -> bytes:
    document = {
        "id": "attack.ttl", "version": 1, "description": "A rule from the topic.",
        "events": ["payment"], "window": {"type": "sliding", "size": "1h"},
        "aggregates": {"n": {"fn": "count"}}, "condition": "agg.n > 3", "severity": 50,
        "penalty": "freeze", **changes,
    }  # fmt: skip
    return orjson.dumps(document)


@pytest.mark.parametrize("ttl", ["99999999999d", "3000000d", 1e300, "401d"])
def test_a_rule_ttl_beyond_its_bound_is_refused_naming_the_field(ttl: object) -> None:
    center = RuleCenter([])
    refusal = center.apply(b"attack.ttl", rule_record(ttl=ttl), offset=7)
    assert refusal is not None
    assert "ttl" in refusal.error
    assert "at most 400d" in refusal.error
    assert center.doc("attack.ttl") is None
    # The worker goes on: the tombstone of the refused rule, then a good version.
    assert center.apply(b"attack.ttl", None) is None
    assert center.apply(b"attack.ttl", rule_record(ttl="400d")) is None


def test_a_record_that_breaks_the_validators_is_a_refusal_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(data: object, origin: str) -> None:
        raise OverflowError("from deep inside")

    monkeypatch.setattr("riskstream.agents.rule_center.parse_any", broken)
    center = RuleCenter([])
    refusal = center.apply(b"attack.ttl", rule_record())
    assert refusal is not None
    assert refusal.error == "rule attack.ttl: cannot be applied: OverflowError"
    assert list(center.refusals) == [refusal]


def test_revoking_a_rule_lifts_the_signals_it_published() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record(version=1)) is None
    assert center.counts("attack.ttl", 1)
    assert center.apply(b"attack.ttl", rule_record(version=2, mode="disabled")) is None
    assert not center.counts("attack.ttl", 1)
    assert not center.counts("attack.ttl", 2)
    assert center.apply(b"attack.ttl", rule_record(version=3)) is None
    assert not center.counts("attack.ttl", 1)  # stays lifted once enabled again
    assert center.counts("attack.ttl", 3)
    assert center.apply(b"attack.ttl", None) is None
    assert not center.counts("attack.ttl", 3)
    # Created again at a low version after the deletion: its own signals count.
    assert center.apply(b"attack.ttl", rule_record(version=1)) is None
    assert center.counts("attack.ttl", 1)
    assert not center.counts("other.rule", 1)


def test_a_shadow_version_withdraws_the_rules_judgement_too() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record(version=1)) is None
    assert center.apply(b"attack.ttl", rule_record(version=2, mode="shadow")) is None
    assert not center.counts("attack.ttl", 1)


def test_the_rules_in_force_and_their_key_groups_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("riskstream.agents.rule_center.MAX_RULES", 3)
    monkeypatch.setattr("riskstream.agents.rule_center.MAX_KEY_GROUPS", 2)
    center = RuleCenter([])
    assert center.apply(b"r.a", rule_record(id="r.a")) is None
    assert center.apply(b"r.b", rule_record(id="r.b", key="event.device_id")) is None
    refused = center.apply(b"r.c", rule_record(id="r.c", key="event.ip"))
    assert refused is not None
    assert "would make 3 key groups, the most allowed is 2" in refused.error
    assert center.apply(b"r.c", rule_record(id="r.c", key="event.device_id")) is None
    refused = center.apply(b"r.d", rule_record(id="r.d"))
    assert refused is not None
    assert "3 rules are in force, the most allowed" in refused.error
    # A new version of a rule in force is no new rule.
    assert center.apply(b"r.a", rule_record(id="r.a", version=2)) is None


def test_a_rule_too_slow_to_evaluate_is_disabled_and_reported() -> None:
    center = RuleCenter([])
    assert center.apply(b"r.a", rule_record(id="r.a", version=4)) is None
    center.suspend_slow([("r.a", 250.0), ("gone", 900.0)], 100.0)
    doc = center.doc("r.a")
    assert doc is not None
    assert (doc.mode, doc.version) == ("disabled", 4)
    assert not center.counts("r.a", 4)
    [row] = center.summary()
    assert (row["mode"], row["source"]) == ("disabled", "suspended")
    [refusal] = center.refusals
    assert refusal.error == (
        "rule r.a v4 disabled: one evaluation took 250 ms, the budget is 100 ms"
    )
    same_version = center.apply(b"r.a", rule_record(id="r.a", version=4))
    assert same_version is not None, "enabled again only by a new version"
    assert center.apply(b"r.a", rule_record(id="r.a", version=5)) is None
    assert center.counts("r.a", 5)


def approved(value: bytes | None, rule_id: str = "attack.ttl") -> list[tuple[str, bytes]]:
    from riskstream.streams.rule_approval import Approval, change_digest  # noqa: PLC0415

    return [
        Approval(
            proposal_id="rp-0123456789abcdef", proposer="alice", approver="bob",
            digest=change_digest(rule_id, value), at=datetime.now(UTC),
        ).header()
    ]  # fmt: skip


def test_with_approval_required_an_unapproved_record_is_refused_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    center = RuleCenter([], approval_required=True)
    refusal = center.apply(b"attack.ttl", rule_record(), offset=3)
    assert refusal is not None
    assert "carries no approval" in refusal.error
    assert center.doc("attack.ttl") is None
    assert "carries no approval" in caplog.text


def test_with_approval_required_an_approved_record_is_applied_and_deleted() -> None:
    center = RuleCenter([], approval_required=True)
    record = rule_record()
    assert center.apply(b"attack.ttl", record, headers=approved(record)) is None
    assert center.doc("attack.ttl") is not None
    # An approval of the document does not approve its deletion.
    assert center.apply(b"attack.ttl", None, headers=approved(record)) is not None
    assert center.doc("attack.ttl") is not None
    assert center.apply(b"attack.ttl", None, headers=approved(None)) is None
    assert center.doc("attack.ttl") is None


def test_an_approval_of_one_version_does_not_carry_another() -> None:
    center = RuleCenter([], approval_required=True)
    first, second = rule_record(), rule_record(version=2, severity=90)
    assert center.apply(b"attack.ttl", first, headers=approved(first)) is None
    refusal = center.apply(b"attack.ttl", second, headers=approved(first))
    assert refusal is not None
    assert "for another change" in refusal.error
    doc = center.doc("attack.ttl")
    assert doc is not None
    assert doc.version == 1


def test_with_approval_off_a_plain_record_is_applied() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record()) is None


def test_a_score_effect_rule_with_a_penalty_is_refused_before_it_is_active() -> None:
    center = RuleCenter([])
    assert center.apply(b"attack.ttl", rule_record(version=1)) is None  # decide + freeze
    refusal = center.apply(b"attack.ttl", rule_record(version=2, effect="score"), offset=3)
    assert refusal is not None
    assert "effect score cannot carry a penalty (freeze)" in refusal.error
    doc = center.doc("attack.ttl")
    assert doc is not None and (doc.version, doc.effect) == (1, "decide")  # still in force
    # Without the penalty, the score-effect version is applied and shown as such.
    assert center.apply(b"attack.ttl", rule_record(version=2, effect="score", penalty=None)) is None
    (row,) = [row for row in center.summary() if row["id"] == "attack.ttl"]
    assert (row["version"], row["effect"]) == (2, "score")
