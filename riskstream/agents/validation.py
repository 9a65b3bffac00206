"""Raw bytes in, a contract-v1 event or a rejection with a reason out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from riskstream.streams.events import (
    ACCOUNT_EVENT_TYPES,
    FEEDBACK_TYPES,
    TRANSACTION_TYPES,
    AccountEvent,
    Event,
    Feedback,
    Transaction,
)
from riskstream.streams.redaction import TooDeepError

# Takes a message's sensitive values out (``riskstream.core.Tokeniser.tokenise``): JSON
# bytes in, JSON bytes out; ValueError when they are not JSON, TooDeepError.
Redact = Callable[[bytes], bytes]

_MODEL_BY_TYPE: dict[str, type[BaseModel]] = {
    **dict.fromkeys(TRANSACTION_TYPES, Transaction),
    **dict.fromkeys(ACCOUNT_EVENT_TYPES, AccountEvent),
    **dict.fromkeys(FEEDBACK_TYPES, Feedback),
}
KNOWN_TYPES = ", ".join(sorted(_MODEL_BY_TYPE))
# The models' compiled validators, bound once: model_validate's Python wrapper and the class
# attribute look-up cost ~1 µs an event, more than some models take to validate. Same call,
# same results and errors (model_validate passes only its defaults); the models are complete
# at import and never rebuilt.
_VALIDATE_BY_TYPE: dict[str, Callable[[Any], Any]] = {
    name: model.__pydantic_validator__.validate_python for name, model in _MODEL_BY_TYPE.items()
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message cannot be processed; ``reason`` is a stable machine code."""

    reason: str
    detail: str


class InvalidEventError(ValueError):
    def __init__(self, rejection: Rejection) -> None:
        super().__init__(f"{rejection.reason}: {rejection.detail}")
        self.rejection = rejection


_SHOWN = re.compile(r"[A-Za-z_]{1,32}")


def shown(value: Any) -> str:
    """A value of the input fit to quote in an error: a short word as it is, anything
    else only by its type (it may be a card or phone number)."""
    if isinstance(value, str) and _SHOWN.fullmatch(value):
        return repr(value)
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def describe_validation_error(error: ValidationError) -> str:
    """``field.path: message; ...`` — short enough for a header, precise enough to fix;
    never the input values (pydantic's own text quotes them)."""
    parts = []
    for item in error.errors(include_url=False):
        location = ".".join(str(piece) for piece in item["loc"]) or "(root)"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)


def parse_event(
    raw: bytes | None,
    *,
    max_bytes: int,
    now_ms: int | None = None,
    max_future_skew_ms: int = 3_600_000,
    redact: Redact | None = None,
) -> Event:
    """Decode and validate one message; raise :class:`InvalidEventError` when it is unusable.

    ``now_ms`` enables the future-timestamp guard (an event from next year would push the
    account's watermark and make every real event "late"); offline replay leaves it off.
    ``redact`` runs on the message first, so no error and no model sees what it took.
    """
    if raw is None or len(raw) == 0:
        raise InvalidEventError(Rejection("empty", "message has no value"))
    if len(raw) > max_bytes:
        raise InvalidEventError(
            Rejection("oversized", f"payload is {len(raw)} bytes, the limit is {max_bytes}")
        )
    unread = None  # why the tokeniser could not read it, if it could not
    if redact is not None:
        try:
            raw = redact(raw)
        except TooDeepError as error:
            raise InvalidEventError(Rejection("too_deep", str(error))) from None
        except ValueError as error:
            unread = str(error)  # orjson says why, in its words, below
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidEventError(Rejection("not_json", str(error))) from None
    if unread is not None:
        raise InvalidEventError(Rejection("not_json", unread))
    return event_from_mapping(data, now_ms=now_ms, max_future_skew_ms=max_future_skew_ms)


def event_from_mapping(
    data: Any,
    *,
    now_ms: int | None = None,
    max_future_skew_ms: int = 3_600_000,
) -> Event:
    """Validate already-decoded JSON; the event kind is told by its ``type``."""
    if not isinstance(data, dict):
        raise InvalidEventError(
            Rejection("not_object", f"expected a JSON object, got {type(data).__name__}")
        )
    event_type = data.get("type")
    validate = _VALIDATE_BY_TYPE.get(event_type) if isinstance(event_type, str) else None
    if validate is None:
        raise InvalidEventError(
            Rejection("unknown_type", f"type {shown(event_type)} is not one of: {KNOWN_TYPES}")
        )
    try:
        event: Event = validate(data)
    except ValidationError as error:
        raise InvalidEventError(Rejection("invalid", describe_validation_error(error))) from None
    if now_ms is not None and event.occurred_ms > now_ms + max_future_skew_ms:
        raise InvalidEventError(
            Rejection(
                "future_timestamp",
                f"occurred_at {event.occurred_at.isoformat()} is more than "
                f"{max_future_skew_ms // 1000} s ahead of the clock",
            )
        )
    return event
