"""Maker-checker: proposals, who may approve them, and the approval a rules record carries."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from riskstream.streams.rule_approval import (
    APPROVAL_HEADER,
    Approval,
    Proposal,
    RuleChange,
    approval_refusal,
    approver_refusal,
    change_digest,
    new_proposal_id,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DOCUMENT = b'{"id": "r.one", "version": 2}'


def proposal(*changes: RuleChange, proposer: str = "alice") -> Proposal:
    return Proposal(
        proposal_id=new_proposal_id(),
        proposer=proposer,
        at=NOW,
        changes=list(changes) or [RuleChange.of("r.one", DOCUMENT)],
    )


def approval_header(
    rule_id: str, value: bytes | None, proposer: str = "alice", approver: str = "bob"
) -> list[tuple[str, bytes | None]]:
    approval = Approval(
        proposal_id="rp-0123456789abcdef", proposer=proposer, approver=approver,
        digest=change_digest(rule_id, value), at=NOW,
    )  # fmt: skip
    return [approval.header()]


def test_the_digest_binds_the_rule_id_and_the_value() -> None:
    digests = {
        change_digest("r.one", DOCUMENT),
        change_digest("r.two", DOCUMENT),
        change_digest("r.one", DOCUMENT + b" "),
        change_digest("r.one", None),
        change_digest("r.one", b""),
    }
    assert len(digests) == 5


def test_a_second_admin_may_approve_the_proposer_may_not() -> None:
    pending = proposal()
    assert approver_refusal(pending, "bob") is None
    refusal = approver_refusal(pending, "alice")
    assert refusal is not None
    assert "second, different admin" in refusal


def test_a_decided_proposal_is_not_approved_again() -> None:
    decided = proposal().decided("rejected", "bob", NOW, "not now")
    assert (
        approver_refusal(decided, "carol") == f"proposal {decided.proposal_id} is already rejected"
    )


def test_a_proposal_changed_after_its_digest_is_refused() -> None:
    change = RuleChange.of("r.one", DOCUMENT)
    tampered = change.model_copy(update={"document": '{"id": "r.one", "version": 3}'})
    refusal = approver_refusal(proposal(tampered), "bob")
    assert refusal is not None
    assert "digest mismatch for r.one" in refusal


def test_the_proposal_digest_covers_every_change_in_order() -> None:
    one, two = RuleChange.of("r.one", DOCUMENT), RuleChange.of("r.two", None)
    assert proposal(one, two).digest != proposal(two, one).digest
    assert proposal(one, two).rule_ids == ["r.one", "r.two"]


def test_an_approved_record_passes() -> None:
    assert approval_refusal("r.one", DOCUMENT, approval_header("r.one", DOCUMENT)) is None
    assert approval_refusal("r.one", None, approval_header("r.one", None)) is None


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        (None, "carries no approval"),
        ([("other", b"x")], "carries no approval"),
        ([(APPROVAL_HEADER, b"{not json")], "unreadable"),
        ([(APPROVAL_HEADER, orjson.dumps({"approver": "bob"}))], "unreadable"),
        ([(APPROVAL_HEADER, None)], "not one approval"),
        (approval_header("r.one", DOCUMENT) * 2, "not one approval"),
        (approval_header("r.one", b'{"id": "r.one", "version": 9}'), "for another change"),
        (approval_header("r.two", DOCUMENT), "for another change"),
        (approval_header("r.one", DOCUMENT, approver="alice"), "approved their own change"),
    ],
)
def test_a_record_without_a_valid_approval_is_refused(
    headers: list[tuple[str, bytes | None]] | None, why: str
) -> None:
    refusal = approval_refusal("r.one", DOCUMENT, headers)
    assert refusal is not None
    assert why in refusal
