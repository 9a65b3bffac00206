"""Sensitive values taken out of an event before anything keeps it.

At ingest, in ``POST /score/`` and in ``riskstream replay`` the message goes through the
core's :class:`Tokeniser` (``native/src/tokens/``, the one implementation) before it is
validated, so the event model, the rules, the state, the topics and the answers only ever
hold what is left:

- card verification and PIN data (a field named like ``cvv``, ``cvc2``, ``pin``) is
  dropped, at any depth;
- a card number in ``instrument_id`` or in a field named like one (``card_number``,
  ``pan``) becomes a keyed token, beside it its BIN and last 4 (``instrument_bin``,
  ``instrument_last4``; ``card_number_bin`` ...);
- a phone or national id number (a field named like ``phone``, ``msisdn``,
  ``national_id``, ``id_card``) becomes a keyed token;
- in any other string, a value that is wholly a card number becomes a token (an
  identifier keeps its identity), and a card number within a longer text is masked;
  in an identifier (``id``, ``..._id``) such a text becomes a token of all of it.

A token is ``tok_<kind>_`` and 32 hex digits of HMAC-SHA256 under the configured secret:
the same value always gives the same token, so rules still count per card, and nobody
without the secret can tell the value back by trying candidates. Dead letters use
:func:`mask` instead, which needs no secret: the same fields, masked rather than
tokenised. This module holds what is Python's own: the kinds as dead-letter headers name
them, the configured secret, and the masking of a dead letter that is not JSON.
``tests/conformance/tokens/`` pins the behaviour as data.
"""

from __future__ import annotations

import re
from enum import StrEnum

from riskstream import core
from riskstream.core import Tokeniser, is_token, mask_text
from riskstream.streams.settings import Settings

__all__ = [
    "DEVELOPMENT_TOKEN_SECRET",
    "MASKED",
    "MAX_DEPTH",
    "Kind",
    "Tokeniser",
    "TooDeepError",
    "field_kind",
    "is_token",
    "mask",
    "mask_named_values",
    "missing_token_secret",
    "token_key",
    "tokeniser_for",
]

# Deeper JSON than this is not an event: refused rather than walked (the core's limit).
MAX_DEPTH = 32
MASKED = "[masked]"
TooDeepError = core.TooDeep


class Kind(StrEnum):
    """What a sensitive value is; the value names it in tokens and in dead letters."""

    SECRET = "secret"  # card verification or PIN data: never kept
    CARD = "pan"
    PHONE = "phone"
    NATIONAL_ID = "nid"


def field_kind(name: str) -> Kind | None:
    """The kind of sensitive value a field of this name holds, if any."""
    kind = core.field_kind(name)
    return None if kind is None else Kind(kind)


def mask(message: bytes) -> tuple[bytes, frozenset[Kind]]:
    """A JSON message with the same fields masked (no secret needed), and the kinds
    found: ``message`` itself when none. ValueError when it is not JSON,
    :class:`TooDeepError`."""
    masked, kinds = core.mask(message)
    return masked, frozenset(Kind(kind) for kind in kinds)


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


def token_key(settings: Settings) -> bytes:
    """The configured secret, else the development one (a worker, and a replay, refuse
    to start without a secret outside development: ``missing_token_secret``)."""
    secret = settings.token_secret
    key = secret.get_secret_value() if secret is not None else DEVELOPMENT_TOKEN_SECRET
    return key.encode()


def tokeniser_for(settings: Settings) -> Tokeniser:
    """The tokeniser of :func:`token_key`."""
    return Tokeniser(token_key(settings))
