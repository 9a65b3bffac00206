"""HTTP API of the scorer and the penalty center (Faust web views).

Every request reaching a view here has passed the guard (``riskstream.web.guard``): the
caller is authenticated, holds the route's role, and a write is JSON. The answers of the
scoring routes are made by plain functions (``score_answer`` ...), which the scorer
process serves too (``agents/scorer_routes.py``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, get_args

import faust
import orjson
from faust.web import Request, Response, View
from pydantic import ValidationError

from riskstream.agents.score_request import (
    IdempotencyConflictError,
    RequestError,
    parse_transaction,
)
from riskstream.agents.score_routing import ScoreRouter
from riskstream.agents.scorer import Scorer
from riskstream.agents.validation import describe_validation_error
from riskstream.streams.codec import dumps
from riskstream.streams.events import Transaction, to_epoch_ms
from riskstream.streams.outputs import EntityType
from riskstream.streams.scoring_model import PenaltyRequest
from riskstream.web.guard import identity_of

ENTITY_TYPES = frozenset(get_args(EntityType))
NOT_THE_ACTOR = "the actor is the authenticated caller, not a field of the request"


def _json(view: View, body: Any, status: int = 200) -> Response:
    return view.bytes(dumps(body), content_type="application/json", status=status)


def _unprocessable(view: View, error: RequestError) -> Response:
    return _json(view, {"error": str(error), "fields": error.fields}, status=422)


async def _body(request: Request) -> bytes:
    return bytes(await request.read())


Answer = tuple[int, bytes]  # status, JSON body


async def score_answer(scorer: Scorer, raw: bytes, started: float) -> Answer:
    """``POST /score/``'s answer to ``raw`` (``started``: when the request arrived, by
    ``time.perf_counter``)."""
    try:
        transaction = parse_transaction(raw, scorer.tokeniser)
    except RequestError as error:
        return 422, dumps({"error": str(error), "fields": error.fields})
    return await decision_answer(scorer, transaction, started)


async def decision_answer(scorer: Scorer, transaction: Transaction, started: float) -> Answer:
    try:
        decision = await scorer.decide(transaction)
    except IdempotencyConflictError as error:
        return 409, dumps({"error": str(error), "event_id": transaction.event_id})
    body = decision.model_dump(mode="json", exclude={"request_sha256"})
    body["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return 200, dumps(body)


def profile_answer(scorer: Scorer, entity_type: str, entity_id: str) -> Answer:
    if entity_type not in ENTITY_TYPES:
        return 404, dumps({"error": f"unknown entity type {entity_type!r}",
                           "known": sorted(ENTITY_TYPES)})  # fmt: skip
    return 200, dumps(scorer.profile(entity_type, entity_id))


def penalties_answer(scorer: Scorer, query: Mapping[str, str]) -> Answer:
    now = datetime.now(UTC)
    entity_type = query.get("entity_type")
    entity_id = query.get("entity_id")
    entries = scorer.penalties.all_active(now)
    if entity_type:
        entries = [p for p in entries if p.entity_type == entity_type]
    if entity_id:
        entries = [p for p in entries if p.entity_id == entity_id]
    return 200, dumps({"penalties": [
        {"penalty_id": p.penalty_id, **p.model_dump(mode="json")} for p in entries
    ], "as_of_ms": to_epoch_ms(now)})  # fmt: skip


def _answer(view: View, answer: Answer) -> Response:
    status, body = answer
    return view.bytes(body, content_type="application/json", status=status)


def register_scoring_views(app: faust.App, scorer: Scorer, router: ScoreRouter) -> None:
    @app.page("/score/")
    class ScoreView(View):
        async def post(self, request: Request) -> Response:
            started = time.perf_counter()
            raw = await _body(request)
            try:
                transaction = parse_transaction(raw, scorer.tokeniser)
            except RequestError as error:
                return _unprocessable(self, error)
            caller = identity_of(request)
            # A request another worker forwarded was meant for this one: never again.
            owner = None if caller.via == "worker" else router.owner(transaction.account_id)
            if owner is not None:
                answer = await router.forward(owner, raw, caller.subject)
                if answer is not None:
                    status, owners_body = answer
                    return self.bytes(owners_body, content_type="application/json", status=status)
                # The owner is unreachable: answer here rather than not at all.
            return _answer(self, await decision_answer(scorer, transaction, started))

    @app.page("/profiles/{entity_type}/{entity_id}/")
    class ProfileView(View):
        async def get(self, request: Request, entity_type: str, entity_id: str) -> Response:
            return _answer(self, profile_answer(scorer, entity_type, entity_id))

    @app.page("/penalties/")
    class PenaltiesView(View):
        async def get(self, request: Request) -> Response:
            return _answer(self, penalties_answer(scorer, request.query))

        async def post(self, request: Request) -> Response:
            try:
                data = orjson.loads(await _body(request))
                if isinstance(data, dict) and "operator" in data:
                    fields = [{"field": "operator", "message": NOT_THE_ACTOR}]
                    return _unprocessable(self, RequestError(f"operator: {NOT_THE_ACTOR}", fields))
                penalty_request = PenaltyRequest.model_validate(data)
            except orjson.JSONDecodeError as error:
                return _unprocessable(self, RequestError(f"the body is not JSON: {error}"))
            except ValidationError as error:
                fields = [
                    {"field": ".".join(str(p) for p in item["loc"]), "message": item["msg"]}
                    for item in error.errors(include_url=False)
                ]
                return _unprocessable(self, RequestError(describe_validation_error(error), fields))
            penalty = await scorer.add_penalty(penalty_request, identity_of(request).subject)
            return _json(
                self, {"penalty_id": penalty.penalty_id, **penalty.model_dump(mode="json")}, 201
            )

    @app.page("/penalties/{penalty_id}/")
    class PenaltyView(View):
        async def delete(self, request: Request, penalty_id: str) -> Response:
            if "operator" in request.query:
                fields = [{"field": "operator", "message": NOT_THE_ACTOR}]
                return _unprocessable(self, RequestError(f"?operator=: {NOT_THE_ACTOR}", fields))
            reason = request.query.get("reason")
            if not reason:
                return _unprocessable(self, RequestError(
                    "removing a penalty needs ?reason=... for the audit trail",
                    [{"field": "reason", "message": "required"}],
                ))  # fmt: skip
            operator = identity_of(request).subject
            try:
                removed = await scorer.remove_penalty(penalty_id, operator, reason)
            except KeyError:
                return _json(self, {"error": f"no penalty {penalty_id!r} in force"}, status=404)
            return _json(self, {"removed": removed.penalty_id})
