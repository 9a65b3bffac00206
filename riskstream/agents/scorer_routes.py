"""The HTTP routes of a scorer process (plain aiohttp): scoring, and the cheap reads.

``POST /score/`` answers as a worker does (``agents/scoring_views.py`` makes the
answers); ``GET /profiles/...``, ``/penalties/``, ``/rules/`` and ``/models/`` show what
this instance holds. No write other than a score: penalties and rules are changed
through the workers and the command line, which keep the audit trail. ``/health/`` is
200 only while the instance can judge (caught up, and not further behind than
``RISKSTREAM_SCORER_MAX_LAG_S``): a load balancer's check takes a stale instance out.
``/metrics``: Prometheus (``agents/scorer_metrics.py``).
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from riskstream.agents.account_replica import AccountReplica
from riskstream.agents.console import models_body, rules_body
from riskstream.agents.scorer import Scorer
from riskstream.agents.scorer_metrics import metrics_response, scorer_registry
from riskstream.agents.scoring_views import (
    Answer,
    penalties_answer,
    profile_answer,
    score_answer,
)
from riskstream.streams.codec import dumps
from riskstream.streams.freshness import Freshness


def _response(answer: Answer) -> web.Response:
    status, body = answer
    return web.Response(body=body, status=status, content_type="application/json")


def health_body(scorer: Scorer) -> dict[str, Any]:
    if not scorer.ready():
        return {"status": "recovering", "ready": False, "reason": "recovering"}
    behind = scorer.stale()
    if behind is not None:
        topic, age_s = behind
        return {"status": "stale", "ready": False, "reason": "stale",
                "detail": f"{topic} last read to its end {age_s:.1f} s ago"}  # fmt: skip
    return {"status": "ready", "ready": True}


def stats_body(scorer: Scorer, freshness: Freshness, replica: AccountReplica) -> dict[str, Any]:
    return {
        "ready": health_body(scorer)["ready"],
        "scorer": {
            "scored": scorer.scored,
            "unconfirmed": scorer.unconfirmed,
            "remembered": len(scorer.memory),
            "mean_ms": {
                part: round(spent * 1000 / scorer.scored, 3) if scorer.scored else 0.0
                for part, spent in scorer.spent_s.items()
            },
        },
        "followers": freshness.report(),
        "accounts": {"applied": replica.applied, "store_memory": replica.memory.usage()},
        "models": scorer.models.stats(),
        "rules_version": scorer.center.version,  # as decisions and /rules/ name it
    }


def scorer_routes(
    scorer: Scorer, freshness: Freshness, replica: AccountReplica
) -> list[web.RouteDef]:
    registry = scorer_registry(scorer, freshness, replica)

    async def score(request: web.Request) -> web.Response:
        started = time.perf_counter()
        return _response(await score_answer(scorer, await request.read(), started))

    async def profile(request: web.Request) -> web.Response:
        info = request.match_info
        return _response(profile_answer(scorer, info["entity_type"], info["entity_id"]))

    async def penalties(request: web.Request) -> web.Response:
        return _response(penalties_answer(scorer, request.query))

    async def rules(request: web.Request) -> web.Response:
        return _response((200, dumps(rules_body(scorer.center, scorer))))

    async def models(request: web.Request) -> web.Response:
        return _response((200, dumps(models_body(scorer))))

    async def health(request: web.Request) -> web.Response:
        body = health_body(scorer)
        return _response((200 if body["ready"] else 503, dumps(body)))

    async def stats(request: web.Request) -> web.Response:
        return _response((200, dumps(stats_body(scorer, freshness, replica))))

    async def metrics(request: web.Request) -> web.Response:
        return metrics_response(registry)

    return [
        web.post("/score/", score),
        web.get("/profiles/{entity_type}/{entity_id}/", profile),
        web.get("/penalties/", penalties),
        web.get("/rules/", rules),
        web.get("/models/", models),
        web.get("/health/", health),
        web.get("/stats/", stats),
        web.get("/metrics", metrics),
    ]
