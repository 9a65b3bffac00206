"""The penalty center's entries and audit records, and scoring-rule documents."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from riskstream.streams import bounds
from riskstream.streams.model_record import ModelAudit
from riskstream.streams.outputs import EntityType
from riskstream.streams.rule_model import Duration, Expression, RuleId, check_positive
from riskstream.streams.rule_suspension import RuleSuspension

PenaltyKind = Literal["freeze", "block", "limit", "step_up", "review", "allow"]
Money = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=8, allow_inf_nan=False)]
Actor = Annotated[str, Field(min_length=1, max_length=200)]


class Penalty(BaseModel):
    """One penalty or reward on one entity. ``allow`` is the allow-list (trusted)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity_type: EntityType
    entity_id: Annotated[str, Field(min_length=1, max_length=200)]
    kind: PenaltyKind
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    source: Actor = Field(description="A rule id, or operator:<name>.")
    created_at: AwareDatetime
    expires_at: AwareDatetime
    per_transaction_limit: Money | None = None
    daily_limit: Money | None = None

    @property
    def penalty_id(self) -> str:
        """One entry per entity, kind and source: a new one replaces the old."""
        return f"{self.entity_type}:{self.entity_id}:{self.kind}:{self.source}"

    @model_validator(mode="after")
    def _check(self) -> Penalty:
        if self.expires_at <= self.created_at:
            raise ValueError("expires_at must be after created_at")
        if self.expires_at - self.created_at > bounds.MAX_DURATION:
            raise ValueError(
                f"expires_at lies at most {bounds.describe(bounds.MAX_DURATION)} after created_at"
            )
        if self.kind == "limit" and self.per_transaction_limit is None and self.daily_limit is None:
            raise ValueError("a limit needs per_transaction_limit or daily_limit")
        if self.kind != "limit" and (self.per_transaction_limit or self.daily_limit):
            raise ValueError("amounts apply to limit entries only")
        return self

    def active_at(self, moment: datetime) -> bool:
        return self.created_at <= moment < self.expires_at


class PenaltyRequest(BaseModel):
    """What an operator sends to add a penalty (REST or CLI). Who sends it is not part of
    it: the caller's authenticated identity is the audit trail's actor."""

    model_config = ConfigDict(extra="forbid")

    entity_type: EntityType
    entity_id: Annotated[str, Field(min_length=1, max_length=200)]
    kind: PenaltyKind
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    ttl: Duration = timedelta(days=1)
    per_transaction_limit: Money | None = None
    daily_limit: Money | None = None

    @model_validator(mode="after")
    def _check(self) -> PenaltyRequest:
        check_positive("ttl", self.ttl, bounds.MAX_DURATION)
        if self.kind == "limit" and self.per_transaction_limit is None and self.daily_limit is None:
            raise ValueError("a limit needs per_transaction_limit or daily_limit")
        if self.kind != "limit" and (self.per_transaction_limit or self.daily_limit):
            raise ValueError("amounts apply to limit entries only")
        return self


class RuleChangeAudit(BaseModel):
    """What an audit line about a rule change names: the proposal, both identities (the
    approver once there is one) and the digest of what was proposed."""

    model_config = ConfigDict(frozen=True)

    proposal_id: str
    proposer: str
    approver: str | None = None
    rule_ids: list[str]
    digest: str


class AuditRecord(BaseModel):
    """An immutable line of the audit trail: who did what, when and why, and its link in
    its producer's hash chain (``streams/audit_chain.py``; absent on older entries)."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    actor: str
    action: Literal[
        "add", "remove", "rule-propose", "rule-approve", "rule-reject", "rule-suspend",
        "model-deploy",
    ]  # fmt: skip
    penalty_id: str = ""  # empty on a rule change's line
    reason: str
    penalty: Penalty | None = None
    rule_change: RuleChangeAudit | None = None
    # A worker's safety disable of a rule version too slow to evaluate.
    suspension: RuleSuspension | None = None
    # A model deployed, moved to shadow or retired (``riskstream model``).
    model: ModelAudit | None = None
    chain: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    seq: Annotated[int, Field(ge=0)] | None = None
    prev: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None


class ScoreRuleDoc(BaseModel):
    """A scoring rule: when ``when`` holds for a transaction, it adds ``points``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["score"]
    id: RuleId
    version: int = Field(ge=1, le=bounds.MAX_VERSION)
    mode: Literal["active", "shadow", "disabled"] = "active"
    description: str = Field(min_length=1, max_length=2000)
    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")]
    when: Expression
    points: int = Field(ge=0, le=100)
