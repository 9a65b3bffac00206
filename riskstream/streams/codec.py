"""One JSON codec (orjson) for topics, tables and the HTTP API.

Pydantic models are not Faust Records, so Faust cannot infer their serializer: topics
and tables carry raw bytes, and this module is the one place that turns them into data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol, Self

import orjson
from pydantic import BaseModel

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _encode_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    """JSON bytes; Decimal as a string (money never becomes a float), UTC as ``Z``."""
    return orjson.dumps(value, default=_encode_default, option=_OPTIONS)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    return orjson.loads(data)


class WireState(Protocol):
    """A state object that turns itself into plain JSON-able data and back."""

    def to_wire(self) -> Any: ...

    @classmethod
    def from_wire(cls, data: Any) -> Self: ...
