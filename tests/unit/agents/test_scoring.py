from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from riskstream.agents.score_rules import CompiledScoreRule, compile_score_rule
from riskstream.agents.scoring import (
    DecisionPolicy,
    cannot_judge,
    gather,
    score,
)
from riskstream.streams.events import Transaction
from riskstream.streams.outputs import Decision
from riskstream.streams.scoring_model import Penalty, ScoreRuleDoc
from riskstream.tables.books import PenaltyBook, ProfileBook

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = DecisionPolicy(review_at=40, challenge_at=60, reject_at=80)


def transaction(**extra: Any) -> Transaction:
    body = {
        "event_id": "t1", "type": "payment", "occurred_at": NOW, "account_id": "acc",
        "amount": "100", "currency": "CNY", "device_id": "dev", "ip": "10.0.0.1",
        "counterparty_id": "shop",
    }  # fmt: skip
    return Transaction.model_validate({**body, **extra})


def signal(
    entity_type: str, entity_id: str, severity: int, sid: str, **extra: Any
) -> dict[str, Any]:
    return {
        "signal_id": sid, "pattern": f"p-{sid}", "rule_id": f"r-{sid}", "severity": severity,
        "entity_type": entity_type, "entity_id": entity_id,
        "detected_at": (NOW - timedelta(minutes=5)).isoformat(),
        "expires_at": (NOW + timedelta(hours=1)).isoformat(), **extra,
    }  # fmt: skip


def penalty(entity_type: str, entity_id: str, kind: str, **extra: Any) -> Penalty:
    return Penalty(
        entity_type=entity_type, entity_id=entity_id, kind=kind, reason="test",  # type: ignore[arg-type]
        source="operator:test", created_at=NOW - timedelta(minutes=1),
        expires_at=NOW + timedelta(hours=1), **extra,
    )  # fmt: skip


def decide(
    txn: Transaction | None = None,
    signals: list[dict[str, Any]] = (),  # type: ignore[assignment]
    penalties: list[Penalty] = (),  # type: ignore[assignment]
    rules: list[ScoreRuleDoc] = (),  # type: ignore[assignment]
    spent: str = "0",
) -> Decision:
    profiles, book = ProfileBook(), PenaltyBook()
    for body in signals:
        profiles.apply_signal(body)
    for entry in penalties:
        book.put(entry)
    evidence = gather(txn or transaction(), profiles, book, NOW, Decimal(spent))
    return score(evidence, [compile_score_rule(doc) for doc in rules], POLICY, "v")


def codes(decision: Decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


def test_no_evidence_accepts_with_zero() -> None:
    decision = decide()
    assert (decision.score, decision.decision, decision.reasons) == (0, "accept", ())


def test_signals_combine_as_independent_evidence() -> None:
    one = decide(signals=[signal("account", "acc", 60, "a")])
    assert (one.score, one.decision) == (60, "challenge")
    assert one.reasons[0].signal_id == "a" and one.reasons[0].rule_id == "r-a"
    two = decide(signals=[signal("account", "acc", 50, "a"), signal("device", "dev", 50, "b")])
    assert (two.score, two.decision) == (75, "challenge")
    many = decide(signals=[signal("ip", "10.0.0.1", 50, str(n)) for n in range(4)])
    assert many.score == 94 and many.decision == "reject"


def test_one_rule_firing_often_counts_once_at_its_strongest() -> None:
    repeats = [signal("account", "acc", 40 + n, f"s{n}", rule_id="velocity") for n in range(30)]
    decision = decide(signals=repeats)
    assert decision.score == 69
    assert [reason.signal_id for reason in decision.reasons] == ["s29"]
    other_rule = signal("account", "acc", 50, "x", rule_id="takeover")
    assert decide(signals=[*repeats, other_rule]).score == round(100 * (1 - 0.31 * 0.5))


def test_profiles_keep_the_latest_signals_of_each_rule() -> None:
    book = ProfileBook(keep_per_rule=3)
    for n in range(10):
        detected = (NOW - timedelta(minutes=30 - n)).isoformat()
        book.apply_signal(signal("account", "acc", 50, f"s{n}", rule_id="v", detected_at=detected))
    book.apply_signal(signal("account", "acc", 20, "t", rule_id="other"))
    kept = book.active("account", "acc", int(NOW.timestamp() * 1000))
    assert sorted(s.signal_id for s in kept) == ["s7", "s8", "s9", "t"]
    assert book.applied == 11


def test_signals_of_other_entities_and_expired_ones_do_not_count() -> None:
    expired = signal(
        "account", "acc", 90, "old", expires_at=(NOW - timedelta(seconds=1)).isoformat()
    )
    other = signal("account", "someone-else", 90, "x")
    assert decide(signals=[expired, other]).score == 0


def test_merchant_signals_reach_payments_to_that_merchant() -> None:
    decision = decide(signals=[signal("merchant", "shop", 70, "m")])
    assert decision.score == 70
    assert decision.reasons[0].detail == "p-m on merchant"


def test_hard_penalties_come_first() -> None:
    noisy = [signal("account", "acc", 10, "a")]
    frozen = decide(signals=noisy, penalties=[penalty("account", "acc", "freeze")])
    assert (frozen.score, frozen.decision, codes(frozen)) == (100, "reject", ["ACCOUNT_FROZEN"])
    blocked = decide(penalties=[penalty("ip", "10.0.0.1", "block")])
    assert (blocked.decision, codes(blocked)) == ("reject", ["ENTITY_BLOCKED"])
    trusted = decide(signals=[signal("account", "acc", 95, "a")],
                     penalties=[penalty("account", "acc", "allow")])  # fmt: skip
    assert (trusted.score, trusted.decision, codes(trusted)) == (0, "accept", ["ALLOW_LISTED"])
    frozen_and_trusted = decide(
        penalties=[penalty("account", "acc", "allow"), penalty("account", "acc", "freeze")]
    )
    assert frozen_and_trusted.decision == "reject"


def test_allow_listing_another_entity_silences_only_its_signals() -> None:
    decision = decide(
        signals=[signal("device", "dev", 70, "d"), signal("account", "acc", 30, "a")],
        penalties=[penalty("device", "dev", "allow")],
    )
    assert decision.score == 30


def test_limits_per_transaction_and_per_day() -> None:
    per_txn = [penalty("account", "acc", "limit", per_transaction_limit=Decimal("99.99"))]
    assert codes(decide(penalties=per_txn)) == ["LIMIT_PER_TRANSACTION"]
    daily = [penalty("account", "acc", "limit", daily_limit=Decimal("500"))]
    assert decide(penalties=daily, spent="400").decision == "accept"
    over = decide(penalties=daily, spent="400.01")
    assert (over.decision, codes(over)) == ("reject", ["LIMIT_DAILY"])
    incoming = decide(transaction(type="top_up"), penalties=per_txn)
    assert incoming.decision == "accept"


def test_step_up_and_review_entries_raise_the_decision() -> None:
    stepped = decide(penalties=[penalty("account", "acc", "step_up")])
    assert (stepped.score, stepped.decision, codes(stepped)) == (
        0,
        "challenge",
        ["STEP_UP_REQUIRED"],
    )
    imposed = decide(signals=[signal("account", "acc", 10, "a", penalty={"kind": "review"})])
    assert (imposed.decision, codes(imposed)) == ("review", ["SIGNAL", "REVIEW_REQUIRED"])
    high = decide(signals=[signal("account", "acc", 90, "a")],
                  penalties=[penalty("account", "acc", "review")])  # fmt: skip
    assert high.decision == "reject"  # a floor never lowers a decision


def test_scoring_rules_add_points_and_shadow_rules_do_not() -> None:
    big = ScoreRuleDoc(kind="score", id="s.big", version=1, description="big", code="BIG",
                       when="event.amount >= 100.0", points=50)  # fmt: skip
    shadow = big.model_copy(update={"id": "s.shadow", "mode": "shadow", "code": "SHADOW"})
    decision = decide(rules=[big, shadow], signals=[signal("account", "acc", 50, "a")])
    assert decision.score == 75
    assert set(codes(decision)) == {"BIG", "SIGNAL"}
    profile_rule = ScoreRuleDoc(kind="score", id="s.p", version=1, description="p", code="PAT",
                                when="size(profiles.account.patterns) >= 2", points=30)  # fmt: skip
    assert decide(rules=[profile_rule], signals=[signal("account", "acc", 10, "a")]).score == 10
    two = [signal("account", "acc", 10, "a"), signal("account", "acc", 10, "b")]
    assert decide(rules=[profile_rule], signals=two).score == round(100 * (1 - 0.9 * 0.9 * 0.7))


def test_cannot_judge_is_minus_one_with_a_cause() -> None:
    decision = cannot_judge("t9", "RECOVERING", "loading", POLICY)
    assert (decision.score, decision.decision, codes(decision)) == (-1, "review", ["RECOVERING"])


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (0, "accept"),
        (39, "accept"),
        (40, "review"),
        (60, "challenge"),
        (80, "reject"),
        (-1, "review"),
    ],
)
def test_policy_thresholds(points: int, expected: str) -> None:
    assert POLICY.decide(points) == expected


def test_gather_judges_expiry_at_the_given_time() -> None:
    profiles = ProfileBook()
    profiles.apply_signal(signal("account", "acc", 60, "a"))  # expires at NOW + 1h
    txn = transaction()
    assert gather(txn, profiles, PenaltyBook(), txn.occurred_at).signals
    later = NOW + timedelta(hours=2)
    assert not gather(txn, profiles, PenaltyBook(), later).signals


def test_a_revoked_rules_freeze_and_points_are_lifted() -> None:
    profiles = ProfileBook()
    frozen = signal("account", "acc", 90, "f", penalty={"kind": "freeze"}, rule_version=3)
    profiles.apply_signal(frozen)
    txn = transaction()

    def decision(counts: Any) -> Decision:
        evidence = gather(txn, profiles, PenaltyBook(), NOW, counts=counts)
        return score(evidence, [], POLICY, "v")

    assert decision(lambda rule_id, version: True).decision == "reject"
    assert codes(decision(lambda rule_id, version: True)) == ["ACCOUNT_FROZEN"]
    lifted = decision(lambda rule_id, version: not (rule_id == "r-f" and version <= 3))
    assert (lifted.decision, lifted.score, list(lifted.reasons)) == ("accept", 0, [])


class SlowWhen:
    """A compiled ``when`` that takes ``seconds`` to say it matches."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def test(self, context: object) -> bool:
        time.sleep(self.seconds)
        return True


def test_a_scoring_rule_over_the_time_budget_is_skipped_and_reported() -> None:
    fast = ScoreRuleDoc(kind="score", id="s.fast", version=1, description="fast", code="FAST",
                        when="event.amount >= 100.0", points=30)  # fmt: skip
    slow_doc = fast.model_copy(update={"id": "s.slow", "code": "SLOW", "points": 90})
    slow = CompiledScoreRule(slow_doc, SlowWhen(0.02))  # type: ignore[arg-type]
    reported: list[tuple[list[tuple[str, float]], float]] = []
    evidence = gather(transaction(), ProfileBook(), PenaltyBook(), NOW)
    rules = [compile_score_rule(fast), slow]

    def report(found: list[tuple[str, float]], budget: float) -> None:
        reported.append((found, budget))

    decision = score(evidence, rules, POLICY, "v", budget_ms=5.0, on_slow=report)
    assert (decision.score, codes(decision)) == (30, ["FAST"]), "answered without it"
    [([(rule_id, took_ms)], budget_ms)] = reported
    assert (rule_id, budget_ms) == ("s.slow", 5.0)
    assert took_ms >= 20
    # Within its budget the same rule counts.
    within = score(evidence, rules, POLICY, "v", budget_ms=1000.0, on_slow=report)
    assert set(codes(within)) == {"FAST", "SLOW"}
    assert len(reported) == 1


def test_each_request_is_tested_on_its_own_amount() -> None:
    doc = ScoreRuleDoc(kind="score", id="s.big", version=1, description="big", code="BIG",
                       when="event.amount >= 100.0", points=30)  # fmt: skip
    rule = compile_score_rule(doc)
    for amount in ["150.00", "50.00", "150.00", "50.00", "100.00", "99.99"]:
        evidence = gather(transaction(amount=amount), ProfileBook(), PenaltyBook(), NOW)
        matched = "BIG" in codes(score(evidence, [rule], POLICY, "v"))
        assert matched == (Decimal(amount) >= 100), amount
