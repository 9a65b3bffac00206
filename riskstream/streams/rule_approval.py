"""Maker-checker for rule changes: proposals, approvals, and the check a rules record passes.

A change (new versions of rules, a deletion) is first a :class:`Proposal` on the compacted
proposals topic, keyed by its id. Once a second admin approves it, each of its records is
published to the rules topic with an :class:`Approval` in the record header
``riskstream-approval``: a header, so a deletion (a tombstone, no value) carries one too.
The approval names the proposal, both identities and the digest of the record it
approves; :func:`approval_refusal` is what the rule center checks when approval is
required.

The approval is a claim, not a signature: whoever may write the rules topic could forge
one. Kafka ACLs restricting who writes the rules and proposals topics are the other half
of the guarantee (docs/security.md).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

APPROVAL_HEADER = "riskstream-approval"
MAX_CHANGES = 100  # records in one proposal


def change_digest(rule_id: str, value: bytes | None) -> str:
    """The sha256 of one rules record as it is published: its key and its value (none for
    a deletion)."""
    body = b"delete" if value is None else b"put\n" + value
    return hashlib.sha256(rule_id.encode() + b"\n" + body).hexdigest()


def new_proposal_id() -> str:
    return f"rp-{secrets.token_hex(8)}"


class RuleChange(BaseModel):
    """One record a proposal publishes: a rule document (its JSON) or a deletion (None)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(min_length=1, max_length=200)
    document: str | None = Field(None, max_length=1_000_000)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")

    @classmethod
    def of(cls, rule_id: str, value: bytes | None) -> RuleChange:
        document = None if value is None else value.decode()
        return cls(rule_id=rule_id, document=document, digest=change_digest(rule_id, value))

    @property
    def value(self) -> bytes | None:
        return None if self.document is None else self.document.encode()

    def intact(self) -> bool:
        return change_digest(self.rule_id, self.value) == self.digest

    def line(self) -> str:
        return f"delete {self.rule_id}" if self.document is None else f"put {self.rule_id}"


class Proposal(BaseModel):
    """A proposed rule change, and what became of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = Field(pattern=r"^rp-[0-9a-f]{16}$")
    proposer: str = Field(min_length=1, max_length=200)
    at: AwareDatetime
    changes: list[RuleChange] = Field(min_length=1, max_length=MAX_CHANGES)
    state: Literal["pending", "approved", "rejected"] = "pending"
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None
    reason: str = Field("", max_length=2000)

    @property
    def digest(self) -> str:
        """One digest of every change, in order: what the audit trail records."""
        joined = "\n".join(change.digest for change in self.changes)
        return hashlib.sha256(joined.encode()).hexdigest()

    @property
    def rule_ids(self) -> list[str]:
        return [change.rule_id for change in self.changes]

    def decided(self, state: Literal["approved", "rejected"], by: str, at: datetime,
                reason: str = "") -> Proposal:  # fmt: skip
        return self.model_copy(
            update={"state": state, "decided_by": by, "decided_at": at, "reason": reason}
        )


class Approval(BaseModel):
    """What a rules record carries once approved (in its ``riskstream-approval`` header)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = Field(min_length=1, max_length=200)
    proposer: str = Field(min_length=1, max_length=200)
    approver: str = Field(min_length=1, max_length=200)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    at: AwareDatetime

    def header(self) -> tuple[str, bytes]:
        return APPROVAL_HEADER, orjson.dumps(self.model_dump(mode="json"))


def approver_refusal(proposal: Proposal, decider: str) -> str | None:
    """Why ``decider`` may not approve ``proposal``; None when they may."""
    if proposal.state != "pending":
        return f"proposal {proposal.proposal_id} is already {proposal.state}"
    if decider == proposal.proposer:
        return f"{decider} proposed {proposal.proposal_id}: a second, different admin approves it"
    broken = [change.rule_id for change in proposal.changes if not change.intact()]
    if broken:
        return f"proposal {proposal.proposal_id}: digest mismatch for {', '.join(broken)}"
    return None


def approval_refusal(
    rule_id: str, value: bytes | None, headers: Iterable[tuple[str, bytes | None]] | None
) -> str | None:
    """Why a rules record is refused when approval is required; None when its approval
    holds: present, for this very record, by someone other than its proposer."""
    found = [raw for name, raw in headers or () if name == APPROVAL_HEADER]
    if not found:
        return f"rule {rule_id}: the record carries no approval (rule changes need one)"
    if len(found) > 1 or found[0] is None:
        return f"rule {rule_id}: the record's approval header is not one approval"
    try:
        data: Any = orjson.loads(found[0])
        approval = Approval.model_validate(data)
    except (orjson.JSONDecodeError, ValidationError):
        return f"rule {rule_id}: the record's approval is unreadable"
    if approval.digest != change_digest(rule_id, value):
        return f"rule {rule_id}: the approval {approval.proposal_id} is for another change"
    if approval.approver == approval.proposer:
        return f"rule {rule_id}: {approval.approver} approved their own change"
    return None
