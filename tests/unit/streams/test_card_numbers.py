"""Card numbers found by Luhn and shape, masked to BIN and last 4; other digits left alone
(the core's, ``native/src/tokens/pans.rs``, whose own tests hold the Luhn check and the
spans found)."""

from __future__ import annotations

import time

import pytest

from riskstream.streams.card_numbers import mask_text, pan_digits

VISA = "4111111111111111"
AMEX = "378282246310005"  # 15 digits
MASTERCARD = "5500000000000004"


@pytest.mark.parametrize("digits", [VISA, AMEX, MASTERCARD, "6011111111111117", "4222222222222"])
def test_luhn_accepts_valid_numbers(digits: str) -> None:
    assert pan_digits(digits) == digits


@pytest.mark.parametrize("digits", ["4111111111111112", "378282246310006", "1234567890123"])
def test_luhn_refuses_a_wrong_check_digit(digits: str) -> None:
    assert pan_digits(digits) is None


@pytest.mark.parametrize(
    "written", [VISA, "4111 1111 1111 1111", "4111-1111-1111-1111", "3782 822463 10005"]
)
def test_a_whole_value_pan_with_or_without_separators(written: str) -> None:
    assert pan_digits(written) == written.replace(" ", "").replace("-", "")


@pytest.mark.parametrize(
    "value",
    [
        "4111111111111112",  # Luhn fails
        "411111111111",  # 12 digits: too short
        "41111111111111111111111",  # 23 digits: not a card
        "4111  1111 1111 1111",  # two spaces: not one number
        "card 4111111111111111",  # not wholly a number
        "acct-00084",
        "",
    ],
)
def test_what_is_not_wholly_a_pan(value: str) -> None:
    assert pan_digits(value) is None


def test_masking_keeps_bin_and_last_four_in_text() -> None:
    assert mask_text(f"paid with {VISA} today") == "paid with 411111******1111 today"
    assert mask_text("card 4111-1111-1111-1111.") == "card 411111******1111."
    assert mask_text(f"{AMEX},{MASTERCARD}") == "378282*****0005,550000******0004"
    assert mask_text(f"a {VISA} b 5500-0000-0000-0004") == "a 411111******1111 b 550000******0004"


def test_a_pan_followed_by_more_digit_groups_is_still_found() -> None:
    # A CVV written after the number must not hide it.
    assert mask_text("4111 1111 1111 1111 123") == "411111******1111 123"


@pytest.mark.parametrize(
    "text",
    [
        "order 123456789012345678901234",  # a long reference: not a card
        "phone 13800138000",  # 11 digits
        "2026-11-02T09:00:00+08:00",
        "amount 1234567.89",
        "4111111111111112",  # Luhn fails
        "ip 100.95.8.165",
    ],
)
def test_other_digit_runs_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_a_hostile_text_of_single_digits_costs_little() -> None:
    # Thousands of digit groups: each start tries a few windows, not the whole run.
    started = time.perf_counter()
    assert mask_text("1 " * 20_000) == "1 " * 20_000
    assert mask_text("1234 " * 8_000) == "1234 " * 8_000
    assert time.perf_counter() - started < 1.0


def test_a_pan_in_more_than_five_groups_is_not_one() -> None:
    assert mask_text("411 111 111 111 1111") == "411111******1111"  # 5 groups
    assert mask_text("41 11 11 11 11 11 11 11") == "41 11 11 11 11 11 11 11"
