"""Long-horizon profiles in scoring: ``Evidence.history`` and the baseline rule."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from riskstream.agents.score_rules import compile_score_rule
from riskstream.agents.scoring import DecisionPolicy, gather, score
from riskstream.rules.loader import default_score_rules
from riskstream.streams.events import Transaction
from riskstream.tables.books import PenaltyBook, ProfileBook
from riskstream.tables.history_summary import Snapshot

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BASELINE = {"amount_p95": 100.0, "amount_count": 40, "known_devices": ["dev"]}


def transaction(amount: str, kind: str = "payment") -> Transaction:
    return Transaction.model_validate({
        "event_id": "t1", "type": kind, "occurred_at": NOW, "account_id": "acc",
        "amount": amount, "currency": "EUR", "device_id": "dev", "counterparty_id": "shop",
    })  # fmt: skip


def snapshot(account: dict[str, Any]) -> Snapshot:
    return Snapshot(0, {("account", "acc"): account, ("merchant", "shop"): {"fraud_rate": 0.2}})


def test_the_long_horizon_fields_sit_beside_the_signal_summary() -> None:
    evidence = gather(
        transaction("10"), ProfileBook(), PenaltyBook(), NOW, history=snapshot(BASELINE)
    )
    assert evidence.history == {"account": BASELINE, "merchant": {"fraud_rate": 0.2}}
    profiles = evidence.variables()["profiles"]
    assert profiles["account"] == {**BASELINE, "count": 0, "max_severity": 0, "patterns": []}
    assert profiles["merchant"]["fraud_rate"] == 0.2
    assert profiles["device"] == {"count": 0, "max_severity": 0, "patterns": []}
    assert gather(transaction("10"), ProfileBook(), PenaltyBook(), NOW).history == {}


@pytest.mark.parametrize(
    ("amount", "kind", "account", "fires"),
    [
        ("501", "payment", BASELINE, True),
        ("499", "payment", BASELINE, False),
        ("501", "top_up", BASELINE, False),
        ("501", "payment", {**BASELINE, "amount_count": 19}, False),  # too little history
        ("501", "payment", {"amount_count": 40}, False),  # no distribution
        ("501", "payment", None, False),  # an unknown account
    ],
)
def test_the_baseline_rule_reads_the_account_distribution(
    amount: str, kind: str, account: dict[str, Any] | None, fires: bool
) -> None:
    rules = [compile_score_rule(doc) for doc in default_score_rules()]
    history = snapshot(account) if account is not None else None
    evidence = gather(
        transaction(amount, kind), ProfileBook(), PenaltyBook(), NOW, Decimal(0), history=history
    )
    decision = score(evidence, rules, DecisionPolicy(), "v")
    assert ("ABOVE_OWN_BASELINE" in [reason.code for reason in decision.reasons]) is fires
    assert decision.score == (30 if fires else 0)
