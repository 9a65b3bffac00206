"""A score request: the transaction it carries, read as hostile input, and its digest.

Shared by every process that answers ``POST /score/`` (a worker, ``riskstream scorer``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import orjson
from pydantic import ValidationError

from riskstream.agents.validation import describe_validation_error, shown
from riskstream.streams.events import TRANSACTION_TYPES, Transaction
from riskstream.streams.redaction import Tokeniser, TooDeepError
from riskstream.streams.scoring_model import Penalty, PenaltyRequest


class IdempotencyConflictError(Exception):
    """The event id was scored before with another request body (answered with 409)."""


class RequestError(ValueError):
    """A bad request: the message says which field and why (answered with 422)."""

    def __init__(self, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []


def make_penalty(request: PenaltyRequest, operator: str, now: datetime) -> Penalty:
    """The entry ``operator`` (who is authenticated, never named by the request) adds."""
    return Penalty(
        entity_type=request.entity_type,
        entity_id=request.entity_id,
        kind=request.kind,
        reason=request.reason,
        source=f"operator:{operator}",
        created_at=now,
        expires_at=now + request.ttl,
        per_transaction_limit=request.per_transaction_limit,
        daily_limit=request.daily_limit,
    )


def request_digest(transaction: Transaction) -> str:
    """SHA-256 of the transaction in canonical form (validated values, sorted keys): the
    same request however its JSON was spaced or ordered."""
    canonical = orjson.dumps(transaction.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def parse_transaction(body: bytes, tokeniser: Tokeniser) -> Transaction:
    """A transaction to score, its sensitive values tokenised (``streams/redaction.py``)
    before anything else reads it, error messages included."""
    try:
        data = orjson.loads(tokeniser.tokenise(body))
    except TooDeepError as error:
        raise RequestError(f"the body is not an event: {error}") from None
    except ValueError:  # not JSON: orjson says why, in its words
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise RequestError(f"the body is not JSON: {error}") from None
        raise RequestError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise RequestError("the body must be a JSON object (a transaction)")
    if data.get("type") not in TRANSACTION_TYPES:
        raise RequestError(
            f"type {shown(data.get('type'))} is not a transaction type",
            [{"field": "type", "message": f"one of {', '.join(sorted(TRANSACTION_TYPES))}"}],
        )
    try:
        return Transaction.model_validate(data)
    except ValidationError as error:
        fields = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
            for item in error.errors(include_url=False)
        ]
        raise RequestError(describe_validation_error(error), fields) from None
