"""What riskstream publishes: risk signals, decisions, and dead-letter headers."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal, TypeAlias

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EntityType = Literal["account", "device", "ip", "instrument", "counterparty", "merchant"]
DecisionKind = Literal["accept", "review", "challenge", "reject"]
# Money in aggregates is a decimal string, as on the wire.
AggregateValue: TypeAlias = int | float | str
Severity = Annotated[int, Field(ge=0, le=100)]


class Signal(BaseModel):
    """A detector's conclusion about one entity.

    Every field derives from the input events, never from the wall clock, so that
    processing the same events again yields byte-identical signals.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    signal_id: str
    pattern: str
    rule_id: str
    rule_version: int = Field(ge=1)
    entity_type: EntityType
    entity_id: str
    severity: Severity
    evidence: tuple[str, ...] = Field(description="Event ids behind the conclusion.")
    aggregates: dict[str, AggregateValue] = Field(default_factory=dict)
    trigger_event_id: str
    detected_at: AwareDatetime = Field(description="Event time of the triggering event.")
    expires_at: AwareDatetime


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    detail: str
    signal_id: str | None = None
    rule_id: str | None = None


class Decision(BaseModel):
    """The scorer's answer for one transaction (-1 = cannot judge)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    score: int = Field(ge=-1, le=100)
    decision: DecisionKind
    reasons: tuple[Reason, ...] = ()
    rules_version: str = ""
    latency_ms: float = 0.0
    # What was asked (scorer.request_digest): the same event id with another body is a
    # conflict, not a retry. None on records written before it was kept.
    request_sha256: str | None = None
    # The version of the learned model that took part (``risk.models``); None when the
    # rules decided alone (no active model, or an entry in force decided first).
    model_version: str | None = None


def deterministic_id(*parts: str | int) -> str:
    """A stable id from its parts: the same parts always give the same id."""
    digest = hashlib.blake2b(
        "\x1f".join(str(part) for part in parts).encode(), digest_size=16
    ).hexdigest()
    return f"sig_{digest}"


class DeadLetterHeaders:
    """Header names on a dead-letter record; its value is the original bytes, with any
    sensitive values masked, and cut short if they would not fit the topic (see
    ``riskstream.streams.dead_letter``)."""

    REASON = "riskstream.dlq.reason"
    DETAIL = "riskstream.dlq.detail"
    TOPIC = "riskstream.dlq.topic"
    PARTITION = "riskstream.dlq.partition"
    OFFSET = "riskstream.dlq.offset"
    TIMESTAMP = "riskstream.dlq.timestamp"
    # Only on a record whose value was masked: the kinds taken out (``pan,phone,secret``);
    # the value is then the masked JSON, no longer the original bytes.
    MASKED = "riskstream.dlq.masked"
    # Only on a record cut short to fit: what was cut (``value`` or ``value,key``), and
    # the size and sha256 (hex) of each part before the cut.
    TRUNCATED = "riskstream.dlq.truncated"
    ORIGINAL_SIZE = "riskstream.dlq.original-size"
    ORIGINAL_SHA256 = "riskstream.dlq.original-sha256"
    KEY_ORIGINAL_SIZE = "riskstream.dlq.key-original-size"
    KEY_ORIGINAL_SHA256 = "riskstream.dlq.key-original-sha256"
