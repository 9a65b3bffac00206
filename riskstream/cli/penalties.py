"""``riskstream penalties ...``: the penalty center from the command line.

Writes go straight to the penalties topic with an audit record, exactly as the REST
endpoints do, so every worker applies them within moments.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from pydantic import ValidationError

from riskstream.agents.score_request import make_penalty
from riskstream.agents.validation import describe_validation_error
from riskstream.cli.broker import require_broker
from riskstream.streams.audit_chain import AuditChain
from riskstream.streams.card_numbers import mask_text, pan_digits
from riskstream.streams.codec import dumps
from riskstream.streams.follow import apply_untrusted
from riskstream.streams.kafka_security import client_options
from riskstream.streams.redaction import missing_token_secret, tokeniser_for
from riskstream.streams.scoring_model import AuditRecord, PenaltyRequest
from riskstream.streams.settings import Settings
from riskstream.tables.books import PenaltyBook

AUDIT_TIMEOUT_S = 30.0


class PenaltyCommandError(Exception):
    """Refused: nothing was changed."""


def read_book(settings: Settings) -> PenaltyBook:
    book = PenaltyBook()
    require_broker(settings)
    consumer = KafkaConsumer(**client_options(settings), group_id=None, enable_auto_commit=False)
    try:
        partition = TopicPartition(settings.topics.penalties, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        while consumer.position(partition) < end:
            for record in consumer.poll(timeout_ms=1000).get(partition, []):
                apply_untrusted(
                    settings.topics.penalties,
                    book.apply_record,
                    SimpleNamespace(key=record.key, value=record.value, offset=record.offset),
                )
    finally:
        consumer.close()
    return book


def _publish(settings: Settings, audit: AuditRecord, penalty: bytes | None) -> None:
    """The audit line, linked into this command's own chain, stored first; then the
    penalty entry (None removes it)."""
    require_broker(settings)
    names = settings.topics
    chain = AuditChain(f"cli:{socket.gethostname()}")
    producer = KafkaProducer(**client_options(settings), acks="all")
    key = audit.penalty_id.encode()
    try:
        producer.send(names.audit, key=key, value=chain.seal(audit)).get(timeout=AUDIT_TIMEOUT_S)
        producer.send(names.penalties, key=key, value=penalty)
        producer.flush()
    finally:
        producer.close()


def _known_id(settings: Settings, entity_id: str) -> str:
    """The id the workers know an entity by: a card number is penalised by its token,
    which takes the workers' secret."""
    if pan_digits(entity_id) is None:
        return entity_id
    refused = missing_token_secret(settings)
    if refused is not None:
        raise PenaltyCommandError(f"the entity id is a card number; {refused}")
    return tokeniser_for(settings).lookup_id(entity_id)


def add(settings: Settings, fields: dict[str, object], operator: str | None) -> str:
    if not operator:
        raise PenaltyCommandError("--operator names who adds the penalty, for the audit trail")
    try:
        request = PenaltyRequest.model_validate(fields)
    except ValidationError as error:
        raise PenaltyCommandError(describe_validation_error(error)) from None
    request = request.model_copy(update={
        "entity_id": _known_id(settings, request.entity_id), "reason": mask_text(request.reason)
    })  # fmt: skip
    now = datetime.now(UTC)
    try:
        penalty = make_penalty(request, operator, now)
    except ValidationError as error:
        raise PenaltyCommandError(describe_validation_error(error)) from None
    audit = AuditRecord(
        at=now,
        actor=operator,
        action="add",
        penalty_id=penalty.penalty_id,
        reason=request.reason,
        penalty=penalty,
    )
    _publish(settings, audit, dumps(penalty))
    return penalty.penalty_id


def remove(settings: Settings, penalty_id: str, operator: str, reason: str) -> None:
    current = read_book(settings).get(penalty_id)
    if current is None:
        raise PenaltyCommandError(f"no penalty {penalty_id!r}")
    audit = AuditRecord(at=datetime.now(UTC), actor=operator, action="remove",
                        penalty_id=penalty_id, reason=reason, penalty=current)  # fmt: skip
    _publish(settings, audit, None)


def listing(settings: Settings, say: Callable[[str], None]) -> None:
    for penalty in read_book(settings).all_active(datetime.now(UTC)):
        limits = " ".join(
            f"{name}={value}"
            for name, value in (("per_transaction", penalty.per_transaction_limit),
                                ("daily", penalty.daily_limit)) if value is not None
        )  # fmt: skip
        say(f"{penalty.penalty_id}\tuntil {penalty.expires_at.isoformat()}\t{penalty.reason}"
            f"{chr(9) + limits if limits else ''}")  # fmt: skip
