"""The records of ``risk.models``: which learned model scores, and which runs beside.

Key = the model id; value = ``{"model_id", "mode", "artefact"}``, the artefact being a
model artefact as JSON (``agents/model_artefact.py`` reads and checks it). The topic is
compacted: the latest record of each model id is that model's state. ``active``: it
takes part in every decision (one at a time: of the records marked active, the newest
wins); ``shadow``: scored beside the active one and counted, never deciding;
``retired``: kept for the record (its card), never scored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskstream.streams.bounds import MAX_MODEL_RECORD_BYTES

ModelMode = Literal["active", "shadow", "retired"]
MODEL_MODES: tuple[ModelMode, ...] = ("active", "shadow", "retired")
ModelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]


class ModelRecord(BaseModel):
    """One record of the models topic, its artefact still unread (as JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: ModelId
    mode: ModelMode
    artefact: dict[str, Any]

    def artefact_bytes(self) -> bytes:
        return orjson.dumps(self.artefact)

    def encode(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


class ModelRecordError(ValueError):
    """A record of the models topic that cannot be a model record; the message says why."""


def parse_model_record(key: bytes | None, value: bytes | None) -> ModelRecord:
    """The record, checked as far as the topic's contract goes (not the artefact's
    content: that is the artefact reader's)."""
    model_id = key.decode(errors="replace") if key else ""
    if not model_id:
        raise ModelRecordError("a model record needs the model id as its key")
    if value is None:
        raise ModelRecordError(
            f"model {model_id[:100]}: a tombstone; retire a model with a record in mode retired"
        )
    if len(value) > MAX_MODEL_RECORD_BYTES:
        raise ModelRecordError(
            f"model {model_id[:100]}: {len(value)} bytes, the most is {MAX_MODEL_RECORD_BYTES}"
        )
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise ModelRecordError(f"model {model_id[:100]}: not JSON: {error}") from None
    try:
        record = ModelRecord.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'record'}: {item['msg']}"
            for item in error.errors(include_url=False)[:3]
        )
        raise ModelRecordError(f"model {model_id[:100]}: not a model record: {problems}") from None
    if record.model_id != model_id:
        raise ModelRecordError(
            f"record key {model_id[:100]!r} differs from the model id {record.model_id!r}"
        )
    return record


class ModelAudit(BaseModel):
    """What an audit line about a model deployment names."""

    model_config = ConfigDict(frozen=True)

    model_id: str
    version: str
    mode: ModelMode
