"""HTTP API of the scorer and the penalty center (Faust web views)."""

from __future__ import annotations

import time
from typing import Any, get_args

import faust
import orjson
from faust.web import Request, Response, View
from pydantic import ValidationError

from riskstream.agents.score_routing import ROUTED_HEADER
from riskstream.agents.scorer import RequestError, Scorer, parse_transaction
from riskstream.agents.validation import describe_validation_error
from riskstream.streams.codec import dumps
from riskstream.streams.events import to_epoch_ms
from riskstream.streams.outputs import EntityType
from riskstream.streams.scoring_model import PenaltyRequest

ENTITY_TYPES = frozenset(get_args(EntityType))


def _json(view: View, body: Any, status: int = 200) -> Response:
    return view.bytes(dumps(body), content_type="application/json", status=status)


def _unprocessable(view: View, error: RequestError) -> Response:
    return _json(view, {"error": str(error), "fields": error.fields}, status=422)


async def _body(request: Request) -> bytes:
    return bytes(await request.read())


def register_scoring_views(app: faust.App, scorer: Scorer) -> None:
    router = scorer.router

    @app.page("/score/")
    class ScoreView(View):
        async def post(self, request: Request) -> Response:
            started = time.perf_counter()
            raw = await _body(request)
            try:
                transaction = parse_transaction(raw, scorer.tokeniser)
            except RequestError as error:
                return _unprocessable(self, error)
            owner = (
                None if ROUTED_HEADER in request.headers else router.owner(transaction.account_id)
            )
            if owner is not None:
                answer = await router.forward(owner, raw)
                if answer is not None:
                    status, owners_body = answer
                    return self.bytes(owners_body, content_type="application/json", status=status)
                # The owner is unreachable: answer here rather than not at all.
            decision = await scorer.decide(transaction)
            body = decision.model_dump(mode="json")
            body["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
            return _json(self, body)

    @app.page("/profiles/{entity_type}/{entity_id}/")
    class ProfileView(View):
        async def get(self, request: Request, entity_type: str, entity_id: str) -> Response:
            if entity_type not in ENTITY_TYPES:
                return _json(self, {"error": f"unknown entity type {entity_type!r}",
                                    "known": sorted(ENTITY_TYPES)}, status=404)  # fmt: skip
            return _json(self, scorer.profile(entity_type, entity_id))

    @app.page("/penalties/")
    class PenaltiesView(View):
        async def get(self, request: Request) -> Response:
            from datetime import UTC, datetime  # noqa: PLC0415

            now = datetime.now(UTC)
            entity_type = request.query.get("entity_type")
            entity_id = request.query.get("entity_id")
            entries = scorer.penalties.all_active(now)
            if entity_type:
                entries = [p for p in entries if p.entity_type == entity_type]
            if entity_id:
                entries = [p for p in entries if p.entity_id == entity_id]
            return _json(self, {"penalties": [
                {"penalty_id": p.penalty_id, **p.model_dump(mode="json")} for p in entries
            ], "as_of_ms": to_epoch_ms(now)})  # fmt: skip

        async def post(self, request: Request) -> Response:
            try:
                data = orjson.loads(await _body(request))
                penalty_request = PenaltyRequest.model_validate(data)
            except orjson.JSONDecodeError as error:
                return _unprocessable(self, RequestError(f"the body is not JSON: {error}"))
            except ValidationError as error:
                fields = [
                    {"field": ".".join(str(p) for p in item["loc"]), "message": item["msg"]}
                    for item in error.errors(include_url=False)
                ]
                return _unprocessable(self, RequestError(describe_validation_error(error), fields))
            penalty = await scorer.add_penalty(penalty_request)
            return _json(
                self, {"penalty_id": penalty.penalty_id, **penalty.model_dump(mode="json")}, 201
            )

    @app.page("/penalties/{penalty_id}/")
    class PenaltyView(View):
        async def delete(self, request: Request, penalty_id: str) -> Response:
            operator = request.query.get("operator")
            reason = request.query.get("reason")
            if not operator or not reason:
                return _unprocessable(self, RequestError(
                    "removing a penalty needs ?operator=...&reason=... for the audit trail",
                    [{"field": name, "message": "required"}
                     for name, value in (("operator", operator), ("reason", reason)) if not value],
                ))  # fmt: skip
            try:
                removed = await scorer.remove_penalty(penalty_id, operator, reason)
            except KeyError:
                return _json(self, {"error": f"no penalty {penalty_id!r} in force"}, status=404)
            return _json(self, {"removed": removed.penalty_id})
