"""``riskstream rules ...`` under maker-checker: propose, approve, reject, pending.

With ``RISKSTREAM_RULES_APPROVAL=required`` a push, a mode change or a deletion becomes a
proposal on the proposals topic; a second admin's ``approve`` publishes it to the rules
topic, each record with its approval. Who acts is the subject of the bearer token in
``RISKSTREAM_OPERATOR_TOKEN`` (an admin's, verified like the workers verify it); an
environment variable rather than an option, so the token does not show in a process
list. Each proposal, approval and rejection is an audit line, stored before the change.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from pydantic import ValidationError

from riskstream.cli import rules
from riskstream.cli.broker import require_broker
from riskstream.cli.rules import RulesCommandError
from riskstream.streams.audit_chain import AuditChain
from riskstream.streams.kafka_security import client_options
from riskstream.streams.rule_approval import (
    Approval,
    Proposal,
    RuleChange,
    approver_refusal,
    new_proposal_id,
)
from riskstream.streams.scoring_model import AuditRecord, RuleChangeAudit
from riskstream.streams.settings import Settings
from riskstream.web.credentials import Credentials, UnauthenticatedError

AUDIT_TIMEOUT_S = 30.0
POLL_MS = 1000
CHANGES = ("push", "enable", "shadow", "disable", "delete")
DECISIONS = ("approve", "reject", "pending")


def operator(settings: Settings) -> str:
    """The admin acting: the subject of the verified token in RISKSTREAM_OPERATOR_TOKEN."""
    if settings.operator_token is None:
        raise RulesCommandError(
            "rule changes need approval: set RISKSTREAM_OPERATOR_TOKEN to an admin's token"
        )
    token = settings.operator_token.get_secret_value()
    try:
        identity = Credentials.from_settings(settings).authenticate(f"Bearer {token}")
    except UnauthenticatedError as error:
        raise RulesCommandError(f"RISKSTREAM_OPERATOR_TOKEN: {error}") from None
    if not identity.holds("admin"):
        raise RulesCommandError(f"{identity.subject} is no admin: rule changes need one")
    return identity.subject


def read_proposals(settings: Settings) -> dict[str, Proposal]:
    """Every proposal on the proposals topic, latest state by id; unreadable ones skipped."""
    require_broker(settings)
    topic = settings.topics.rule_proposals
    consumer = KafkaConsumer(**client_options(settings), group_id=None, enable_auto_commit=False)
    proposals: dict[str, Proposal] = {}
    try:
        if topic not in consumer.topics():
            raise RulesCommandError(f"no topic {topic}: run `riskstream topics create` first")
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        while consumer.position(partition) < end:
            for record in consumer.poll(timeout_ms=POLL_MS).get(partition, []):
                if record.value is None:
                    proposals.pop(record.key.decode(errors="replace"), None)
                    continue
                try:
                    proposal = Proposal.model_validate_json(record.value)
                except ValidationError:
                    continue
                proposals[proposal.proposal_id] = proposal
    finally:
        consumer.close()
    return proposals


def propose(settings: Settings, records: list[tuple[str, bytes | None]]) -> Proposal:
    """The checked ``records`` as a pending proposal, with its audit line."""
    proposer = operator(settings)
    proposal = Proposal(
        proposal_id=new_proposal_id(),
        proposer=proposer,
        at=datetime.now(UTC),
        changes=[RuleChange.of(rule_id, value) for rule_id, value in records],
    )
    _publish(settings, _audit(proposal, "rule-propose", proposer, "proposed"), proposal)
    return proposal


def approve(settings: Settings, proposal_id: str) -> Proposal:
    """Publish a pending proposal to the rules topic, approved by a second admin."""
    approver = operator(settings)
    proposal = _pending(settings, proposal_id)
    refused = approver_refusal(proposal, approver)
    if refused is not None:
        raise RulesCommandError(refused)
    # Checked again now: the rules in force may have moved on since it was proposed.
    center = rules.read_center(settings)
    center.approval_required = False
    for change in proposal.changes:
        refusal = center.apply(change.rule_id.encode(), change.value)
        if refusal is not None:
            raise RulesCommandError(f"refused, nothing published: {refusal.error}")
    now = datetime.now(UTC)
    decided = proposal.decided("approved", approver, now)
    _publish(settings, _audit(decided, "rule-approve", approver, "approved"), decided)
    approvals = [
        Approval(
            proposal_id=proposal_id,
            proposer=proposal.proposer,
            approver=approver,
            digest=change.digest,
            at=now,
        )
        for change in proposal.changes
    ]
    rules.send_records(
        settings,
        [(change.rule_id, change.value) for change in proposal.changes],
        [[approval.header()] for approval in approvals],
    )
    return decided


def reject(settings: Settings, proposal_id: str, reason: str) -> Proposal:
    """Close a pending proposal without publishing it (its proposer may withdraw it)."""
    decider = operator(settings)
    proposal = _pending(settings, proposal_id)
    decided = proposal.decided("rejected", decider, datetime.now(UTC), reason)
    _publish(settings, _audit(decided, "rule-reject", decider, reason or "rejected"), decided)
    return decided


def _pending(settings: Settings, proposal_id: str) -> Proposal:
    proposal = read_proposals(settings).get(proposal_id)
    if proposal is None:
        raise RulesCommandError(f"no proposal {proposal_id}")
    if proposal.state != "pending":
        raise RulesCommandError(f"proposal {proposal_id} is already {proposal.state}")
    return proposal


def _audit(proposal: Proposal, action: str, actor: str, reason: str) -> AuditRecord:
    approver = proposal.decided_by if proposal.state == "approved" else None
    return AuditRecord.model_validate({
        "at": datetime.now(UTC), "actor": actor, "action": action, "reason": reason,
        "rule_change": RuleChangeAudit(
            proposal_id=proposal.proposal_id, proposer=proposal.proposer, approver=approver,
            rule_ids=proposal.rule_ids, digest=proposal.digest,
        ),
    })  # fmt: skip


def _publish(settings: Settings, audit: AuditRecord, proposal: Proposal) -> None:
    """The audit line, in this command's own chain, stored first; then the proposal."""
    require_broker(settings)
    chain = AuditChain(f"cli:{socket.gethostname()}")
    producer = KafkaProducer(**client_options(settings), acks="all")
    key = proposal.proposal_id.encode()
    try:
        producer.send(settings.topics.audit, key=key, value=chain.seal(audit)).get(
            timeout=AUDIT_TIMEOUT_S
        )
        producer.send(
            settings.topics.rule_proposals, key=key, value=proposal.model_dump_json().encode()
        )
        producer.flush()
    finally:
        producer.close()


def run_action(
    settings: Settings, action: str, targets: list[str], say: Callable[[str], None]
) -> None:
    """One ``riskstream rules`` call: a change becomes a proposal when approval is
    required; every other call is :func:`riskstream.cli.rules.run_action`'s."""
    required = settings.rules_approval == "required"
    if action == "pending" and not targets:
        for proposal in read_proposals(settings).values():
            if proposal.state == "pending":
                changes = ", ".join(change.line() for change in proposal.changes)
                say(f"{proposal.proposal_id}  by {proposal.proposer}  "
                    f"{proposal.at.isoformat(timespec='seconds')}  {changes}")  # fmt: skip
    elif action == "approve" and len(targets) == 1:
        decided = approve(settings, targets[0])
        say(f"approved {decided.proposal_id}: {', '.join(decided.rule_ids)} published")
    elif action == "reject" and targets:
        decided = reject(settings, targets[0], " ".join(targets[1:]))
        say(f"rejected {decided.proposal_id}")
    elif required and action in CHANGES and targets:
        proposal = propose(settings, _records(settings, action, targets))
        say(f"proposed {proposal.proposal_id}: "
            f"{', '.join(change.line() for change in proposal.changes)}; "
            "a second admin approves it with `riskstream rules approve "
            f"{proposal.proposal_id}`")  # fmt: skip
    else:
        rules.run_action(settings, action, targets, say)


def _records(settings: Settings, action: str, targets: list[str]) -> list[tuple[str, bytes | None]]:
    if action == "push":
        return list(rules.checked_records(settings, rules.pushed_docs(targets)))
    if len(targets) != 1:
        raise ValueError(f"{action} takes one rule id")
    if action == "delete":
        rules.require_rule(settings, targets[0])
        return [(targets[0], None)]
    doc = rules.mode_change(settings, targets[0], rules.MODES[action])
    return list(rules.checked_records(settings, [doc]))
