"""Sensitive values out of an event: tokens at ingest, masks in dead letters."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.streams.dead_letter import letter_for, stored_value
from riskstream.streams.outputs import DeadLetterHeaders
from riskstream.streams.redaction import (
    DEVELOPMENT_TOKEN_SECRET,
    MASKED,
    MAX_DEPTH,
    Kind,
    Tokeniser,
    TooDeepError,
    field_kind,
    is_token,
    missing_token_secret,
    tokeniser_for,
)
from riskstream.streams.redaction import mask as mask_message
from riskstream.streams.settings import Settings

PAN = "4111111111111111"
CVV = "737"
PHONE = "+86 138 0013 8000"
NATIONAL_ID = "11010519491231002X"
CLEAR = (PAN, "4111 1111 1111 1111", CVV, "13800138000", "138 0013 8000", NATIONAL_ID)
TOKENISER = Tokeniser(b"unit-tests-token-secret")


def tokenise(data: object, tokeniser: Tokeniser) -> Any:
    """The decoded message tokenised by the core (JSON in and out)."""
    return orjson.loads(tokeniser.tokenise(orjson.dumps(data)))


def mask(data: object) -> tuple[Any, frozenset[Kind]]:
    masked, found = mask_message(orjson.dumps(data))
    return orjson.loads(masked), found


def payment(**extra: object) -> dict[str, object]:
    return {
        "event_id": "tx-1", "type": "payment", "occurred_at": "2026-11-02T09:00:00Z",
        "account_id": "acct-1", "amount": "12.30", "currency": "CNY", **extra,
    }  # fmt: skip


def sensitive_payment() -> dict[str, object]:
    return payment(
        instrument_id="4111 1111 1111 1111",
        phone=PHONE,
        attributes={"cvv": CVV, "PIN": "1234", "national_id": NATIONAL_ID,
                    "note": f"card {PAN} by phone", "mobile": 13800138000},
    )  # fmt: skip


def no_clear_value_in(data: object) -> None:
    text = orjson.dumps(data).decode()
    for clear in CLEAR:
        assert clear not in text, clear


def test_card_number_becomes_a_token_with_bin_and_last4() -> None:
    out = tokenise(sensitive_payment(), TOKENISER)
    assert is_token(out["instrument_id"]) and out["instrument_id"].startswith("tok_pan_")
    assert (out["instrument_bin"], out["instrument_last4"]) == ("411111", "1111")
    no_clear_value_in(out)


def test_a_card_s_bin_and_last4_cannot_be_overridden_by_the_sender() -> None:
    out = tokenise(payment(instrument_id=PAN, instrument_bin="999999"), TOKENISER)
    assert out["instrument_bin"] == "411111"


def test_tokens_are_stable_keyed_and_separated_by_kind() -> None:
    same = tokenise(payment(instrument_id=PAN), TOKENISER)["instrument_id"]
    spaced = tokenise(payment(instrument_id="4111-1111-1111-1111"), TOKENISER)["instrument_id"]
    other_key = Tokeniser(b"another-secret-of-16")
    assert same == spaced == TOKENISER.token(Kind.CARD, PAN)
    assert same != other_key.token(Kind.CARD, PAN)
    assert TOKENISER.token(Kind.PHONE, PAN) != same


def test_cvv_and_pin_are_dropped_at_any_depth() -> None:
    out = tokenise(
        payment(attributes={"CVV2": CVV, "Pin_Block": "x"}, extra={"cvc": CVV}), TOKENISER
    )
    assert out["attributes"] == {}
    assert out["extra"] == {}


def test_phone_and_national_id_become_tokens() -> None:
    out = tokenise(sensitive_payment(), TOKENISER)
    assert out["phone"] == TOKENISER.token(Kind.PHONE, "8613800138000")
    attributes = out["attributes"]
    assert attributes["national_id"].startswith("tok_nid_")
    assert attributes["mobile"].startswith("tok_phone_")  # a number, not only a string
    assert attributes["note"] == "card 411111******1111 by phone"
    no_clear_value_in(out)


def test_tokenising_twice_changes_nothing() -> None:
    once = tokenise(sensitive_payment(), TOKENISER)
    assert tokenise(once, TOKENISER) == once


def test_other_values_are_left_as_they_are() -> None:
    attributes = {"merchant_category": "5411", "order": "123456789012345678901"}
    plain = payment(instrument_id="card-tok-77", device_id="dev-1", attributes=attributes)
    assert tokenise(plain, TOKENISER) == plain


def test_a_whole_card_number_in_any_field_becomes_a_token() -> None:
    out = tokenise(payment(account_id=PAN, counterparty_id="5500 0000 0000 0004"), TOKENISER)
    assert out["account_id"] == TOKENISER.token(Kind.CARD, PAN)
    assert out["counterparty_id"].startswith("tok_pan_")


def test_a_card_number_as_a_field_name_is_replaced_too() -> None:
    out = tokenise(payment(attributes={PAN: "x", f"n {PAN}": "y"}), TOKENISER)
    assert out["attributes"] == {TOKENISER.token(Kind.CARD, PAN): "x", "n 411111******1111": "y"}


def test_deep_nesting_is_refused() -> None:
    deep: dict[str, object] = {}
    for _ in range(MAX_DEPTH + 2):
        deep = {"a": deep}
    with pytest.raises(TooDeepError):
        tokenise(payment(extra=deep), TOKENISER)


def test_parse_event_tokenises_before_validating() -> None:
    raw = orjson.dumps(sensitive_payment())
    event = parse_event(raw, max_bytes=65536, redact=TOKENISER.tokenise)
    no_clear_value_in(event.model_dump(mode="json"))
    assert event.instrument_bin == "411111"  # type: ignore[union-attr]


def test_an_invalid_event_error_never_quotes_the_value() -> None:
    raw = orjson.dumps(payment(type=PAN))
    with pytest.raises(InvalidEventError) as refused:
        parse_event(raw, max_bytes=65536)
    assert PAN not in str(refused.value)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("CVV", Kind.SECRET), ("card-number", Kind.CARD), ("Phone_Number", Kind.PHONE),
     ("id_card", Kind.NATIONAL_ID), ("device_id", None), ("pinned", None)],
)  # fmt: skip
def test_field_kinds_by_name(name: str, kind: Kind | None) -> None:
    assert field_kind(name) is kind


def test_masking_needs_no_secret_and_names_what_it_found() -> None:
    masked, found = mask(sensitive_payment())
    assert found == {Kind.CARD, Kind.SECRET, Kind.PHONE, Kind.NATIONAL_ID}
    assert masked["instrument_id"] == "411111******1111"
    assert masked["phone"] == MASKED
    assert "instrument_bin" not in masked
    no_clear_value_in(masked)


def test_a_message_with_nothing_sensitive_is_used_as_it_is() -> None:
    raw = orjson.dumps(payment(instrument_id="card-tok-77"))
    assert TOKENISER.tokenise(raw) is raw


def test_parse_event_refuses_what_the_tokeniser_cannot_read() -> None:
    deep: dict[str, object] = {}
    for _ in range(MAX_DEPTH + 2):
        deep = {"a": deep}
    with pytest.raises(InvalidEventError) as refused:
        parse_event(orjson.dumps(payment(extra=deep)), max_bytes=65536, redact=TOKENISER.tokenise)
    assert refused.value.rejection.reason == "too_deep"
    with pytest.raises(InvalidEventError) as refused:
        parse_event(b'{"a": 4111111111111111', max_bytes=65536, redact=TOKENISER.tokenise)
    assert refused.value.rejection.reason == "not_json"
    assert PAN not in str(refused.value)


def test_a_dead_letter_keeps_the_original_bytes_when_nothing_is_sensitive() -> None:
    raw = b'{"type": "payment",  "amount": -1}'
    assert stored_value(raw) == (raw, frozenset())


def test_a_dead_letter_of_broken_json_is_masked_too() -> None:
    raw = b'{"cvv": "737", "card": "4111 1111 1111 1111", "phone": "13800138000" oops'
    value, found = stored_value(raw)
    assert found == {Kind.SECRET, Kind.CARD, Kind.PHONE}
    no_clear_value_in(value.decode())


class Source:
    topic = "payments.transactions"
    partition = 3
    offset = 42
    timestamp = 1.0
    key = PAN.encode()
    value = orjson.dumps(sensitive_payment())


def test_a_dead_letter_says_what_was_masked() -> None:
    letter = letter_for(Source(), "unprocessable", f"ValueError('{PAN}')")
    headers = dict(letter.headers)
    assert headers[DeadLetterHeaders.MASKED] == b"nid,pan,phone,secret"
    assert PAN.encode() not in headers[DeadLetterHeaders.DETAIL]
    assert letter.key == b"411111******1111"
    no_clear_value_in(letter.value.decode())


def test_a_worker_needs_a_secret_unless_in_development() -> None:
    assert missing_token_secret(Settings(token_secret=None, development=False)) is not None
    assert missing_token_secret(Settings(token_secret="short", development=False)) is not None
    assert missing_token_secret(Settings(token_secret="s" * 16)) is None
    development = Settings(token_secret=None, development=True)
    assert missing_token_secret(development) is None
    expected = Tokeniser(DEVELOPMENT_TOKEN_SECRET.encode()).token(Kind.CARD, PAN)
    assert tokeniser_for(development).token(Kind.CARD, PAN) == expected
