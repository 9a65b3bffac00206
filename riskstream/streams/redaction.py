"""Sensitive values taken out of an event before anything keeps it.

At ingest (and in ``POST /score/``) the decoded JSON goes through :func:`tokenise`
before it is validated, so the event model, the rules, the state, the topics and the
answers only ever hold what is left:

- card verification and PIN data (a field named like ``cvv``, ``cvc2``, ``pin``) is
  dropped, at any depth;
- a card number in ``instrument_id`` or in a field named like one (``card_number``,
  ``pan``) becomes a keyed token, beside it its BIN and last 4 (``instrument_bin``,
  ``instrument_last4``; ``card_number_bin`` ...);
- a phone or national id number (a field named like ``phone``, ``msisdn``,
  ``national_id``, ``id_card``) becomes a keyed token;
- in any other string, a value that is wholly a card number becomes a token (an
  identifier keeps its identity), and a card number within a longer text is masked.

A token is ``tok_<kind>_`` and 32 hex digits of HMAC-SHA256 under the configured secret:
the same value always gives the same token, so rules still count per card, and nobody
without the secret can tell the value back by trying candidates. Dead letters use
:func:`mask` instead, which needs no secret: the same fields, masked rather than tokenised.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from riskstream.streams.card_numbers import (
    BIN_DIGITS,
    LAST_DIGITS,
    PAN_MAX_DIGITS,
    PAN_MIN_DIGITS,
    luhn_valid,
    mask_text,
    masked_pan,
    pan_digits,
)
from riskstream.streams.settings import Settings

# Deeper JSON than this is not an event: refused rather than walked.
MAX_DEPTH = 32
MASKED = "[masked]"
TOKEN_HEX_DIGITS = 32
_TOKEN = re.compile(r"tok_(?:pan|phone|nid)_[0-9a-f]{32}")
_NAME_NOISE = re.compile(r"[^a-z0-9]")
_CARD_FIELD_DIGITS = re.compile(r"[0-9]{12,19}")


class Kind(StrEnum):
    """What a sensitive value is; the value names it in tokens and in dead letters."""

    SECRET = "secret"  # card verification or PIN data: never kept
    CARD = "pan"
    PHONE = "phone"
    NATIONAL_ID = "nid"


def _names(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Field names, lower-cased with everything but letters and digits removed.
_NAMES: dict[Kind, frozenset[str]] = {
    Kind.SECRET: _names(
        "cvv cvv2 cvc cvc2 cid csc cav2 cvn securitycode cardsecuritycode"
        " cardverificationvalue cardverificationcode pin pincode pinblock track1 track2"
        " trackdata magstripe"
    ),
    Kind.CARD: _names(
        "pan cardnumber cardno cardnum primaryaccountnumber ccnumber creditcard"
        " creditcardnumber debitcardnumber bankcardnumber"
    ),
    Kind.PHONE: _names(
        "phone phonenumber phoneno mobile mobilenumber mobilephone msisdn tel telephone cellphone"
    ),
    Kind.NATIONAL_ID: _names(
        "nationalid nationalidnumber nationalidentitynumber idnumber idno idcard"
        " idcardnumber identitycard identitynumber residentid residentidnumber citizenid"
        " ssn socialsecuritynumber passport passportnumber taxid"
    ),
}
_KIND_BY_NAME = {name: kind for kind, names in _NAMES.items() for name in names}
# Identifier fields whose value is a card number when it is a PAN (others are opaque ids).
_INSTRUMENT_FIELDS = frozenset({"instrument_id"})


class TooDeepError(ValueError):
    """The value nests deeper than ``MAX_DEPTH``."""


@functools.lru_cache(maxsize=4096)  # events repeat their field names
def field_kind(name: str) -> Kind | None:
    """The kind of sensitive value a field of this name holds, if any."""
    return _KIND_BY_NAME.get(_NAME_NOISE.sub("", name.lower()))


def is_token(value: str) -> bool:
    return _TOKEN.fullmatch(value) is not None


class Tokeniser:
    """Keyed tokens: HMAC-SHA256 of the normalised value under a secret key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def token(self, kind: Kind, value: str) -> str:
        # The kind is hashed too: a phone and a card of the same digits differ.
        message = f"{kind.value}:{_normalised(kind, value)}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return f"tok_{kind.value}_{digest[:TOKEN_HEX_DIGITS]}"

    def lookup_id(self, value: str) -> str:
        """An id as the state knows it: a card number asked for is looked up by token."""
        digits = pan_digits(value)
        return value if digits is None else self.token(Kind.CARD, digits)


def _normalised(kind: Kind, value: str) -> str:
    if kind is Kind.NATIONAL_ID:
        return re.sub(r"[^0-9A-Z]", "", value.upper())
    return re.sub(r"[^0-9]", "", value)  # cards and phones: the digits alone


class _Walk:
    """One pass over a decoded JSON value; ``found`` names the kinds replaced."""

    def __init__(self, card: Callable[[str], str], personal: Callable[[Kind, str], str]) -> None:
        self.card = card
        self.personal = personal
        self.card_parts = True
        self.found: set[Kind] = set()

    def value(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            digits = str(value)
            if PAN_MIN_DIGITS <= len(digits) <= PAN_MAX_DIGITS and luhn_valid(digits):
                self.found.add(Kind.CARD)
                return self.card(digits)
            return value
        if isinstance(value, dict):
            return self.mapping(value, depth + 1)
        if isinstance(value, list):
            if depth >= MAX_DEPTH:
                raise TooDeepError(f"nested deeper than {MAX_DEPTH} levels")
            return [self.value(item, depth + 1) for item in value]
        return value

    def text(self, value: str) -> str:
        if len(value) < PAN_MIN_DIGITS or is_token(value):
            return value
        digits = pan_digits(value)
        if digits is not None:
            self.found.add(Kind.CARD)
            return self.card(digits)
        masked = mask_text(value)
        if masked != value:
            self.found.add(Kind.CARD)
        return masked

    def mapping(self, mapping: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise TooDeepError(f"nested deeper than {MAX_DEPTH} levels")
        out: dict[str, Any] = {}
        parts: dict[str, str] = {}  # a card's BIN and last 4: set last, over any sent
        for key, value in mapping.items():
            name = self.text(key) if len(key) >= PAN_MIN_DIGITS else key  # JSON: str keys
            kind = field_kind(name)
            if kind is Kind.SECRET:
                self.found.add(kind)
                continue
            if kind is Kind.CARD or name in _INSTRUMENT_FIELDS:
                digits = _card_field_digits(value, named=kind is Kind.CARD)
                if digits is not None:
                    self.found.add(Kind.CARD)
                    out[name] = self.card(digits)
                    if self.card_parts:
                        stem = name.removesuffix("_id")
                        parts[f"{stem}_bin"] = digits[:BIN_DIGITS]
                        parts[f"{stem}_last4"] = digits[-LAST_DIGITS:]
                    continue
            if kind is Kind.PHONE or kind is Kind.NATIONAL_ID:
                personal = _personal_text(value)
                if personal is not None:
                    self.found.add(kind)
                    out[name] = self.personal(kind, personal)
                    continue
            if isinstance(value, str):  # most values: spared value()'s dispatch
                out[name] = value if len(value) < PAN_MIN_DIGITS else self.text(value)
            else:
                out[name] = self.value(value, depth)
        out.update(parts)
        return out


def _card_field_digits(value: Any, *, named: bool) -> str | None:
    """The card number a card field holds: a PAN, or for a field named as a card any
    12-19 digits (the name says what it is, Luhn-valid or not)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str):
        return None
    digits = pan_digits(text)
    if digits is None and named:
        bare = text.replace(" ", "").replace("-", "")
        digits = bare if _CARD_FIELD_DIGITS.fullmatch(bare) else None
    return digits


def _personal_text(value: Any) -> str | None:
    """A phone or id number as text; None for what holds none (null, empty, a token)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return None if not text.strip() or is_token(text) else text


def tokenise(data: Any, tokeniser: Tokeniser) -> Any:
    """A decoded event with its sensitive values tokenised, dropped or masked (the module
    says how); anything but a JSON object is returned as it is, for validation to refuse.
    Raises :class:`TooDeepError`."""
    if not isinstance(data, dict):
        return data
    walk = _Walk(lambda digits: tokeniser.token(Kind.CARD, digits), tokeniser.token)
    return walk.mapping(data, 0)


# A ``"name": value`` pair in text that is not JSON as a whole (cut short, or broken).
_NAMED_VALUE = re.compile(r'"([^"\\]{1,64})"\s*:\s*("(?:[^"\\]|\\.)*"|[0-9][0-9 .+-]*)')


def mask_named_values(text: str) -> tuple[str, frozenset[Kind]]:
    """``text`` (not JSON) with the values of sensitive names masked where it has
    ``"name": value`` pairs, and its card numbers masked; the kinds found."""
    found: set[Kind] = set()

    def masked(pair: re.Match[str]) -> str:
        kind = field_kind(pair.group(1))
        if kind is None:
            return pair.group(0)
        found.add(kind)
        return pair.group(0)[: pair.start(2) - pair.start(0)] + f'"{MASKED}"'

    text = _NAMED_VALUE.sub(masked, text)
    cards = mask_text(text)
    if cards != text:
        found.add(Kind.CARD)
    return cards, frozenset(found)


def mask(data: Any) -> tuple[Any, frozenset[Kind]]:
    """A decoded JSON value with the same fields masked (no secret needed), and the kinds
    found. Raises :class:`TooDeepError`."""
    walk = _Walk(masked_pan, lambda _kind, _value: MASKED)
    walk.card_parts = False  # the masked number shows them already
    return walk.value(data, 0), frozenset(walk.found)


# Published on purpose (docs/security.md): tokens made under it protect nothing. A worker
# uses it only when RISKSTREAM_DEVELOPMENT is set and no secret is configured.
DEVELOPMENT_TOKEN_SECRET = "riskstream-development-only-token-secret"
NO_SECRET = (
    "RISKSTREAM_TOKEN_SECRET is not set: card, phone and id numbers cannot be tokenised"
    " (set it, or RISKSTREAM_DEVELOPMENT=1 for the published development secret)"
)


TOKEN_SECRET_MIN_CHARS = 16


def missing_token_secret(settings: Settings) -> str | None:
    """Why a worker must not start with these settings; None when it may."""
    secret = settings.token_secret
    if secret is None:
        return None if settings.development else NO_SECRET
    if len(secret.get_secret_value()) < TOKEN_SECRET_MIN_CHARS:
        return f"RISKSTREAM_TOKEN_SECRET is too short: {TOKEN_SECRET_MIN_CHARS} characters at least"
    return None


def tokeniser_for(settings: Settings) -> Tokeniser:
    """The configured secret's tokeniser, else the development one (a worker refuses to
    start without a secret outside development: ``missing_token_secret``)."""
    secret = settings.token_secret
    key = secret.get_secret_value() if secret is not None else DEVELOPMENT_TOKEN_SECRET
    return Tokeniser(key.encode())
