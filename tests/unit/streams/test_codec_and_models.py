from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from riskstream.streams.codec import dumps, loads
from riskstream.streams.events import Transaction, from_epoch_ms, to_epoch_ms
from riskstream.streams.outputs import Decision, Signal, deterministic_id
from riskstream.streams.settings import Settings


def test_money_is_a_decimal_string_on_the_wire_and_never_a_float() -> None:
    body = loads(dumps({"amount": Decimal("0.10"), "big": Decimal("12345678901234567.89")}))
    assert body == {"amount": "0.10", "big": "12345678901234567.89"}


def test_datetimes_are_rfc3339_utc() -> None:
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    assert dumps({"at": moment}) == b'{"at":"2026-11-02T09:00:00+08:00"}'
    assert dumps({"at": moment.astimezone(UTC)}) == b'{"at":"2026-11-02T01:00:00Z"}'


def test_epoch_conversion_is_exact_to_the_millisecond() -> None:
    moment = datetime(2026, 11, 2, 9, 0, 0, 123999, tzinfo=UTC)
    assert to_epoch_ms(moment) % 1000 == 123
    assert from_epoch_ms(to_epoch_ms(moment)) == moment.replace(microsecond=123000)


def test_unknown_fields_survive_a_round_trip() -> None:
    raw = {
        "event_id": "e1",
        "type": "payment",
        "occurred_at": "2026-11-02T09:00:00Z",
        "account_id": "a",
        "amount": "5",
        "currency": "CNY",
        "risk_hint": {"nested": [1, 2]},
        "geo": {"lat": 31.2, "lon": 121.5, "country": "CN", "city": "Shanghai"},
    }
    event = Transaction.model_validate(raw)
    again = loads(dumps(event))
    assert again["risk_hint"] == {"nested": [1, 2]}
    assert again["geo"]["city"] == "Shanghai"
    assert again["amount"] == "5"


def test_signal_and_decision_validate_their_ranges() -> None:
    with pytest.raises(ValidationError):
        Decision(event_id="e", score=101, decision="accept")
    with pytest.raises(ValidationError):
        Decision(event_id="e", score=50, decision="maybe")  # type: ignore[arg-type]
    assert Decision(event_id="e", score=-1, decision="review").score == -1
    with pytest.raises(ValidationError):
        Signal(
            signal_id="s",
            pattern="p",
            rule_id="r",
            rule_version=1,
            entity_type="account",
            entity_id="a",
            severity=120,
            evidence=(),
            trigger_event_id="e",
            detected_at=datetime.now(UTC),
            expires_at=datetime.now(UTC),
        )


def test_deterministic_ids_depend_on_every_part() -> None:
    assert deterministic_id("r", 1, "a") == deterministic_id("r", 1, "a")
    assert deterministic_id("r", 1, "a") != deterministic_id("r", 2, "a")
    assert deterministic_id("ab", "c") != deterministic_id("a", "bc")


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "broker-a:9093")
    monkeypatch.setenv("WEB_PORT", "7070")
    monkeypatch.setenv("RISKSTREAM_DATA_DIR", "/srv/risk")
    monkeypatch.setenv("RISKSTREAM_TOPIC_SIGNALS", "custom.signals")
    monkeypatch.setenv("RISKSTREAM_LOAD_PACK", "false")
    monkeypatch.setenv("RISKSTREAM_KAFKA_SASL_PASSWORD", "hunter2")
    settings = Settings()
    assert settings.kafka_bootstrap == "broker-a:9093"
    assert settings.web_port == 7070
    assert str(settings.data_dir) == "/srv/risk"
    assert settings.topics.signals == "custom.signals"
    assert settings.load_pack is False
    assert "hunter2" not in repr(settings)


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_PORT", "99999")
    with pytest.raises(ValidationError, match=r"web_port|WEB_PORT"):
        Settings()


def test_occurred_ms_is_cached_out_of_sight_and_follows_a_copy_with_a_new_time() -> None:
    raw = {
        "event_id": "e1",
        "type": "payment",
        "occurred_at": "2026-11-02T09:00:00.123456+08:00",
        "account_id": "a",
        "amount": "5",
        "currency": "CNY",
        "hint": 1,
    }
    event, twin = Transaction.model_validate(raw), Transaction.model_validate(raw)
    before = (event.model_dump(), event.model_dump_json(), dict(event), repr(event))
    assert event.occurred_ms == to_epoch_ms(event.occurred_at) == event.occurred_ms
    assert (event.model_dump(), event.model_dump_json(), dict(event), repr(event)) == before
    assert event == twin and twin == event
    later = event.model_copy(update={"occurred_at": event.occurred_at + timedelta(seconds=1)})
    assert later.occurred_ms == event.occurred_ms + 1000
    assert later != event
