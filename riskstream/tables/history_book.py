"""The records of the profiles topic (``risk.profiles``), and the replica of it every
worker keeps.

A record is keyed ``entity_type:entity_id``; its value is the entity's profile, the time
it is ``as_of``, a format version, and the builder's state for the next build to go on
from (``tables/history.py``). A worker keeps only the profile: the state is for builds.
A None value (tombstone) is an entity no longer seen within the longest window.

Anyone who may write to the topic may write anything to it: a record the book cannot use
is refused with a reason, counted by reason, and the book goes on; nothing raises.
"""

from __future__ import annotations

import logging
import math
import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import orjson

from riskstream.streams.events import from_epoch_ms, to_epoch_ms
from riskstream.tables.history import (
    EntityHistory,
    EntityKey,
    entity_key_text,
    parse_entity_key,
)
from riskstream.tables.history_summary import EMPTY, Profile, ProfileValue

log = logging.getLogger(__name__)
FORMAT = 1
MAX_RECORD_BYTES = 4 << 20  # larger than any record a build writes (see ``encode``)
MAX_FIELDS = 256
MAX_LIST = 64
MAX_TEXT = 256
MAX_SHAPES = 64  # profile shapes (lists of field names) shared between profiles
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class RefusedRecordError(ValueError):
    """A profiles record that cannot be used; ``reason`` is a short word to count by."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def encode(
    key: EntityKey,
    profile: Mapping[str, ProfileValue],
    as_of_ms: int,
    state: EntityHistory | None,
    max_bytes: int,
    *,
    inputs_until_ms: int | None = None,
) -> tuple[bytes, bytes, bool]:
    """(key, value, whether the state had to be left out to fit ``max_bytes``). A profile
    is small (hundreds of bytes); the state of a busy merchant can be large, and without
    it the next build starts that entity afresh, which beats a record the broker refuses."""
    body: dict[str, Any] = {
        "format": FORMAT,
        "entity_type": key[0],
        "entity_id": key[1],
        "as_of": from_epoch_ms(as_of_ms).isoformat(),
        "profile": dict(profile),
    }
    if inputs_until_ms is not None:  # a build from the topics (agents/history_job.py)
        body["inputs_until_ms"] = inputs_until_ms
    if state is not None:
        value = orjson.dumps({**body, "state": state.to_json()})
        if len(value) <= max_bytes:
            return entity_key_text(key).encode(), value, False
    return entity_key_text(key).encode(), orjson.dumps(body), state is not None


def decode(key: bytes | None, value: bytes | None) -> tuple[EntityKey, dict[str, Any] | None]:
    """The entity and the checked body of a record (None: a tombstone); raises
    :class:`RefusedRecordError` with the reason."""
    if not key:
        raise RefusedRecordError("no_key", "a profile record needs its entity as key")
    try:
        entity = parse_entity_key(key.decode())
    except (UnicodeDecodeError, ValueError) as error:
        raise RefusedRecordError("bad_key", str(error)) from None
    if value is None:
        return entity, None
    if len(value) > MAX_RECORD_BYTES:
        raise RefusedRecordError("oversized", f"{len(value)} bytes, at most {MAX_RECORD_BYTES}")
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise RefusedRecordError("not_json", str(error)) from None
    if not isinstance(body, dict):
        raise RefusedRecordError("not_object", f"the value is a {type(body).__name__}")
    if body.get("format") != FORMAT:
        raise RefusedRecordError("bad_format", f"format must be {FORMAT}")
    if (body.get("entity_type"), body.get("entity_id")) != entity:
        raise RefusedRecordError("key_mismatch", "the value names another entity than the key")
    try:
        as_of = datetime.fromisoformat(str(body.get("as_of")))
    except ValueError:
        raise RefusedRecordError("bad_as_of", "as_of must be an ISO time") from None
    if as_of.tzinfo is None:
        raise RefusedRecordError("bad_as_of", "as_of must carry a zone")
    body["as_of_ms"] = to_epoch_ms(as_of)
    inputs_until = body.get("inputs_until_ms")
    if inputs_until is not None and (
        isinstance(inputs_until, bool) or not isinstance(inputs_until, int)
    ):
        raise RefusedRecordError("bad_inputs_until", "inputs_until_ms must be epoch milliseconds")
    body["profile"] = checked_profile(body.get("profile"))
    return entity, body


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def checked_profile(raw: Any) -> dict[str, ProfileValue]:
    """A profile as scoring may read it: names of lower-case words, values finite numbers
    or short lists of short texts; anything else refused."""
    if not isinstance(raw, dict):
        raise RefusedRecordError("bad_profile", "the profile must be an object")
    if len(raw) > MAX_FIELDS:
        raise RefusedRecordError("bad_profile", f"{len(raw)} fields, at most {MAX_FIELDS}")
    profile: dict[str, ProfileValue] = {}
    for name, value in raw.items():
        if not _FIELD_NAME.fullmatch(name):
            raise RefusedRecordError("bad_profile", "a field name is not a lower-case word")
        if isinstance(value, bool):
            raise RefusedRecordError("bad_profile", f"{name}: a boolean is not a profile value")
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise RefusedRecordError("bad_profile", f"{name}: not a finite number")
            if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
                # CEL's integers are 64-bit: the scorer's conditions could not read it.
                raise RefusedRecordError("bad_profile", f"{name}: beyond a 64-bit integer")
            profile[sys.intern(name)] = value
        elif isinstance(value, list):
            if len(value) > MAX_LIST or not all(
                isinstance(item, str) and len(item) <= MAX_TEXT for item in value
            ):
                raise RefusedRecordError(
                    "bad_profile", f"{name}: at most {MAX_LIST} texts of {MAX_TEXT} characters"
                )
            profile[sys.intern(name)] = value
        else:
            raise RefusedRecordError("bad_profile", f"{name}: a {type(value).__name__}")
    return profile


class CompactProfile(Mapping[str, ProfileValue]):
    """A profile as the book keeps it: its values in a tuple, its field names in an index
    shared by every profile of the same shape (all accounts have one shape), and a field
    without a suffix sharing its value with its ``_90d`` twin."""

    __slots__ = ("_index", "_values")
    _shapes: ClassVar[dict[tuple[str, ...], dict[str, int]]] = {}

    def __init__(self, profile: Mapping[str, ProfileValue]) -> None:
        names = tuple(profile)
        index = self._shapes.get(names)
        if index is None:
            if len(self._shapes) > MAX_SHAPES:  # hostile shapes: each its own index
                index = {name: number for number, name in enumerate(names)}
            else:
                index = self._shapes.setdefault(names, {n: i for i, n in enumerate(names)})
        self._index = index
        values = []
        for name, value in profile.items():
            twin = profile.get(f"{name}_90d")
            values.append(twin if twin == value else value)
        self._values = tuple(values)

    def __getitem__(self, name: str) -> ProfileValue:
        return self._values[self._index[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._values)


class HistoryBook:
    """Every entity's long-horizon profile, from the profiles topic: the profile only
    (the build state in a record is dropped), the newest ``as_of`` winning."""

    def __init__(self) -> None:
        self._profiles: dict[EntityKey, tuple[int, Profile]] = {}
        self.applied = 0
        self.refused: Counter[str] = Counter()
        self.as_of_ms = 0  # the newest snapshot applied

    def apply_record(self, record: Any) -> None:
        """A record of the profiles topic; a bad one is refused, logged and counted."""
        try:
            entity, body = decode(getattr(record, "key", None), getattr(record, "value", None))
        except RefusedRecordError as error:
            self.refused[error.reason] += 1
            log.warning(
                "profiles topic: record at partition %s offset %s refused: %s",
                getattr(record, "partition", "?"),
                getattr(record, "offset", "?"),
                error,
            )
            return
        self.applied += 1
        if body is None:
            self._profiles.pop(entity, None)
            return
        as_of_ms = body["as_of_ms"]
        known = self._profiles.get(entity)
        if known is not None and known[0] > as_of_ms:
            return  # an older build's record, read after a newer one
        self._profiles[entity] = (as_of_ms, CompactProfile(body["profile"]))
        self.as_of_ms = max(self.as_of_ms, as_of_ms)

    def lookup(self, entity_type: str, entity_id: str) -> Profile:
        found = self._profiles.get((entity_type, entity_id))
        return found[1] if found is not None else EMPTY

    def as_of(self, entity_type: str, entity_id: str) -> int | None:
        found = self._profiles.get((entity_type, entity_id))
        return found[0] if found is not None else None

    def __len__(self) -> int:
        return len(self._profiles)
