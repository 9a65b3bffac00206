from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from riskstream.agents.validation import InvalidEventError, describe_validation_error, parse_event
from riskstream.streams.events import AccountEvent, Feedback, Transaction

GOOD = {
    "event_id": "e-1",
    "type": "payment",
    "occurred_at": "2026-11-02T09:00:00+08:00",
    "account_id": "acc-1",
    "amount": "12.30",
    "currency": "CNY",
}


def raw(**changes: object) -> bytes:
    body = {**GOOD, **changes}
    return orjson.dumps({k: v for k, v in body.items() if v is not ...})


def reject(payload: bytes, max_bytes: int = 65536, now_ms: int | None = None) -> tuple[str, str]:
    with pytest.raises(InvalidEventError) as caught:
        parse_event(payload, max_bytes=max_bytes, now_ms=now_ms)
    return caught.value.rejection.reason, caught.value.rejection.detail


def test_valid_transaction_keeps_decimal_and_unknown_fields() -> None:
    event = parse_event(raw(merchant_category="5411", amount=0.1), max_bytes=65536)
    assert isinstance(event, Transaction)
    assert event.amount == Decimal("0.1")
    assert event.model_extra == {"merchant_category": "5411"}
    assert event.status == "succeeded"


def test_kind_is_told_by_type() -> None:
    login = parse_event(
        orjson.dumps(
            {
                "event_id": "a",
                "type": "login",
                "occurred_at": "2026-11-02T09:00:00Z",
                "account_id": "acc-1",
                "device_id": "d1",
            }
        ),
        max_bytes=4096,
    )
    assert isinstance(login, AccountEvent)
    feedback = parse_event(
        orjson.dumps(
            {
                "event_id": "f",
                "type": "feedback",
                "occurred_at": "2026-11-02T09:00:00Z",
                "account_id": "acc-1",
                "target_event_id": "e-1",
                "label": "fraud",
            }
        ),
        max_bytes=4096,
    )
    assert isinstance(feedback, Feedback)


@pytest.mark.parametrize(
    ("payload", "reason", "mentions"),
    [
        (b"{not json", "not_json", ""),
        (b"[1, 2]", "not_object", "list"),
        (b"", "empty", ""),
        (raw(type="teleport"), "unknown_type", "teleport"),
        (raw(amount="0"), "invalid", "amount"),
        (raw(amount="-5"), "invalid", "amount"),
        (raw(amount="ten"), "invalid", "amount"),
        (raw(amount=...), "invalid", "amount: Field required"),
        (raw(event_id=...), "invalid", "event_id: Field required"),
        (raw(account_id=""), "invalid", "account_id"),
        (raw(occurred_at="2026-11-02T09:00:00"), "invalid", "timezone"),
        (raw(occurred_at="yesterday"), "invalid", "occurred_at"),
        (raw(currency="yuan"), "invalid", "currency"),
        (raw(status="maybe"), "invalid", "status"),
        (raw(geo={"lat": 120, "lon": 0}), "invalid", "geo.lat"),
    ],
)
def test_rejections_name_the_problem(payload: bytes, reason: str, mentions: str) -> None:
    got_reason, detail = reject(payload)
    assert got_reason == reason
    assert mentions in detail


def test_oversized_payload_is_rejected_before_parsing() -> None:
    payload = raw(attributes={"blob": "x" * 5000})
    assert reject(payload, max_bytes=1024)[0] == "oversized"


def test_future_timestamp_is_rejected_only_with_a_clock() -> None:
    payload = raw(occurred_at="2099-01-01T00:00:00Z")
    assert reject(payload, now_ms=1_790_000_000_000)[0] == "future_timestamp"
    assert parse_event(payload, max_bytes=65536).event_id == "e-1"


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (Transaction, {**GOOD, "geo": {"lat": 1, "lon": 2, "city": "x"}, "hint": [1]}),
        (Transaction, {**GOOD, "amount": "1.000000001", "event_id": " e "}),
        (AccountEvent, {**GOOD, "type": "login", "geo": {"lat": 91, "lon": 0}}),
        (Feedback, {**GOOD, "type": "feedback", "target_event_id": "e-0", "label": "fraud"}),
        (Feedback, {**GOOD, "type": "feedback", "label": "maybe"}),
    ],
)
def test_parsing_gives_what_the_model_gives(
    model: type[BaseModel], body: dict[str, object]
) -> None:
    """parse_event calls the validators directly: model_validate's results and details."""
    try:
        expected: BaseModel | str = model.model_validate(body)
    except ValidationError as error:
        expected = describe_validation_error(error)
    try:
        got: BaseModel | str = parse_event(orjson.dumps(body), max_bytes=65536)
    except InvalidEventError as error:
        assert error.rejection.reason == "invalid"
        got = error.rejection.detail
    assert got == expected
    if isinstance(got, BaseModel) and isinstance(expected, BaseModel):
        assert type(got) is model and got.model_dump() == expected.model_dump()


def test_future_timestamp_detail_names_the_time_and_the_limit() -> None:
    payload = raw(occurred_at="2026-11-02T09:00:00.5+08:00")
    assert reject(payload, now_ms=1_790_000_000_000, max_bytes=65536) == (
        "future_timestamp",
        "occurred_at 2026-11-02T09:00:00.500000+08:00 is more than 3600 s ahead of the clock",
    )
