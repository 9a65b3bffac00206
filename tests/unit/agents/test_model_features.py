from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from riskstream.agents.model_features import FEATURES, feature_row, feature_values, pack_patterns
from riskstream.agents.scoring import Evidence
from riskstream.rules.loader import default_pack
from riskstream.streams.events import Transaction
from riskstream.tables.books import ActiveSignal

SATURDAY = datetime(2026, 11, 7, 21, 30, tzinfo=UTC)


def txn(**extra: Any) -> Transaction:
    body = {
        "event_id": "t1", "type": "transfer", "occurred_at": SATURDAY, "account_id": "acc",
        "amount": "250", "currency": "CNY", "channel": "app", "device_id": "dev",
        "ip": "10.1.2.3", "counterparty_id": "payee",
    }  # fmt: skip
    return Transaction.model_validate({**body, **extra})


def active(pattern: str, rule_id: str, severity: int, sid: str = "s") -> ActiveSignal:
    return ActiveSignal(sid, pattern, rule_id, severity, 0, 10**13, None)


def values(evidence: Evidence) -> dict[str, float]:
    row = feature_row(evidence)
    assert len(row) == len(FEATURES)
    return dict(zip(FEATURES, row, strict=True))


def test_names_are_unique_and_fit_an_artefact() -> None:
    assert len(set(FEATURES)) == len(FEATURES)
    # As the artefact's schema (ArtefactRecord) checks them, and LightGBM accepts them.
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]{1,100}", name) for name in FEATURES)


def test_every_pack_pattern_is_a_feature() -> None:
    patterns = {rule.signal_pattern for rule in default_pack()}
    assert set(pack_patterns()) == patterns
    assert {f"pat_{p}" for p in patterns} <= set(FEATURES)


def test_the_transaction_itself() -> None:
    got = values(Evidence(txn(), spent_today=Decimal("100")))
    assert got["amount"] == 250.0
    assert got["log_amount"] == pytest.approx(math.log1p(250))
    assert got["hour"] == 21.5
    assert got["weekend"] == 1.0
    assert got["outgoing"] == 1.0
    assert got["type_transfer"] == 1.0
    assert got["type_payment"] == 0.0
    assert got["channel_app"] == 1.0
    assert got["channel_other"] == 0.0
    assert got["failed"] == 0.0
    assert got["spent_today"] == 100.0


def test_a_top_up_on_a_weekday_by_an_unknown_channel_that_failed() -> None:
    got = values(Evidence(txn(type="top_up", channel="kiosk", status="failed",
                              occurred_at=SATURDAY - timedelta(days=2))))  # fmt: skip
    assert (got["outgoing"], got["weekend"], got["failed"]) == (0.0, 0.0, 1.0)
    assert (got["channel_other"], got["channel_app"], got["type_top_up"]) == (1.0, 0.0, 1.0)


def test_rule_evidence() -> None:
    evidence = Evidence(txn())
    evidence.signals["account"] = [
        active("velocity.account", "velocity.account", 60, "a"),
        active("velocity.account", "velocity.account", 50, "b"),
        active("structuring", "structuring", 65, "c"),
    ]
    evidence.signals["device"] = [active("velocity.device", "velocity.device", 55, "d")]
    got = values(evidence)
    assert got["sev_account"] == 65.0
    assert got["sev_device"] == 55.0
    assert got["sev_ip"] == 0.0
    assert got["patterns"] == 3.0
    assert got["pat_velocity.account"] == 60.0
    assert got["pat_structuring"] == 65.0
    assert got["pat_card_testing"] == 0.0
    # As the score counts them: one rule once, its strongest signal.
    assert got["signals_noisy_or"] == pytest.approx(100 * (1 - 0.4 * 0.35 * 0.45))


def test_without_profiles_history_is_unknown_not_zero() -> None:
    got = values(Evidence(txn()))
    history = [name for name in FEATURES if name.startswith("h_")]
    assert history
    assert all(math.isnan(got[name]) for name in history)


def test_profiles_give_the_long_horizon_features() -> None:
    evidence = Evidence(txn(geo={"lat": 31.2, "lon": 121.5, "country": "CN"}))
    evidence.spent_today = Decimal(150)
    evidence.history = {
        "account": {
            "amount_p95_30d": 125.0,
            "amount_median_30d": 50.0,
            "amount_p90_30d": 70.0,
            "amount_p99_90d": 500.0,
            "amount_sum_30d": 1000.0,
            "active_days_30d": 10,
            "txn_count_30d": 40,
            "days_since_first_seen": 12.5,
            "known_devices": ["dev"],
            "ip_prefixes": ["10.9.9.0/24"],
            "usual_merchants": [],
            "usual_counterparties": ["payee"],
            "places": ["31,121"],
            "countries": ["FR"],
            "usual_hours": ["8", "21"],
        },
        "counterparty": {"fraud_rate_30d": 0.2, "accounts_30d": 7},
        "ip": {"fraud_rate_30d": "not a number"},
    }
    got = values(evidence)
    assert got["h_amount_over_p95_30d"] == 2.0
    assert got["h_amount_over_p99_90d"] == 0.5
    assert got["h_amount_spread_30d"] == 10.0  # (250 - 50) / (70 - 50)
    assert got["h_day_over_usual_30d"] == 4.0  # (150 + 250) / (1000 / 10)
    assert got["h_count_30d"] == 40.0
    assert got["h_days_since_first"] == 12.5
    assert (got["h_device_known"], got["h_ip_known"], got["h_payee_known"]) == (1.0, 0.0, 1.0)
    assert (got["h_place_known"], got["h_country_known"], got["h_usual_hour"]) == (1, 0, 1)
    assert got["h_payee_fraud_rate_30d"] == 0.2
    assert got["h_payee_accounts_30d"] == 7.0
    assert math.isnan(got["h_ip_fraud_rate_30d"])
    assert math.isnan(got["h_count_7d"])  # the profile has no such field


def test_settled_shares_are_plain_shares_and_unknown_without_payments() -> None:
    evidence = Evidence(txn())
    evidence.history = {
        "counterparty": {
            "txn_count_settled_1d": 0, "fraud_verdicts_settled_1d": 0,
            "txn_count_settled_7d": 4, "fraud_verdicts_settled_7d": 3,
            "txn_count_settled_30d": 20, "fraud_verdicts_settled_30d": 3,
            "fraud_rate_settled_30d": 0.1,  # with the prior: the model reads the plain share
        },
        "device": {"txn_count_settled_30d": 10, "fraud_verdicts_settled_30d": 1},
    }  # fmt: skip
    got = values(evidence)
    assert math.isnan(got["h_payee_fraud_share_settled_1d"])  # no payment: unknown, not 0
    assert got["h_payee_fraud_share_settled_7d"] == 0.75
    assert got["h_payee_fraud_share_settled_30d"] == 0.15
    assert (got["h_payee_count_settled_1d"], got["h_payee_count_settled_30d"]) == (0.0, 20.0)
    assert got["h_device_fraud_share_settled_30d"] == 0.1
    assert math.isnan(got["h_ip_fraud_share_settled_30d"])


def test_an_ip_is_known_by_its_network() -> None:
    evidence = Evidence(txn(ip="10.9.9.77"))
    evidence.history = {"account": {"ip_prefixes": ["10.9.9.0/24"]}}
    assert values(evidence)["h_ip_known"] == 1.0


def test_a_row_follows_the_names_asked_for() -> None:
    evidence = Evidence(txn())
    row = feature_row(evidence, ("outgoing", "no_such_feature", "amount"))
    assert row[0] == 1.0 and math.isnan(row[1]) and row[2] == 250.0
    assert set(feature_values(evidence)) == set(FEATURES)
