"""A scorer process's web server (aiohttp, behind the guard), served in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from riskstream.agents.account_replica import AccountReplica
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.scorer import Scorer
from riskstream.agents.scorer_routes import scorer_routes
from riskstream.streams.codec import dumps
from riskstream.streams.freshness import Freshness
from riskstream.streams.settings import Settings
from riskstream.web.guard import Guard
from tests.unit.agents.test_scorer_host import Clock, Host
from tests.unit.web.keys import SECRET, token


class Served:
    def __init__(self, client: TestClient, scorer: Scorer, clock: Clock) -> None:  # type: ignore[type-arg]
        self.client, self.scorer, self.clock = client, scorer, clock

    async def post(self, body: Any, roles: list[str] | None = None) -> Any:
        return await self.client.post("/score/", data=dumps(body), headers={
            "Authorization": f"Bearer {token(roles or ['scorer'])}",
            "Content-Type": "application/json",
        })  # fmt: skip

    async def get(self, path: str, roles: list[str] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token(roles)}"} if roles else {}
        return await self.client.get(path, headers=headers)


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    settings = Settings(auth_jwt_secret=SECRET, scorer_confirm_timeout_s=0.5)
    clock, host, freshness = Clock(), Host(), Freshness()
    freshness.clock = clock
    scorer = Scorer(host, settings, RuleCenter([]), freshness=freshness)
    host.scorer = scorer
    replica = AccountReplica(tmp_path / "accounts", 8)
    scorer.also_ready.append(replica.ready)
    app = web.Application(middlewares=[Guard.from_settings(settings).middleware])
    app.add_routes(scorer_routes(scorer, freshness, replica))
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield Served(client, scorer, clock)
    finally:
        await client.close()
        replica.close()


def ready(served: Served) -> None:
    scorer = served.scorer
    for event in (
        scorer.center.ready, scorer.profiles_ready, scorer.penalties_ready, scorer.models_ready,
        scorer.decisions_ready, scorer.verdicts_ready, scorer.history_ready, *scorer.also_ready,
    ):  # fmt: skip
        event.set()
    topic = scorer.freshness.topic("risk.signals")  # type: ignore[union-attr]
    topic.assigned([0])
    topic.observe(0, position=0, highwater=0, polled_ms=int(served.clock.now_s * 1000))


BODY = {"event_id": "tx-1", "type": "payment", "occurred_at": "2026-12-07T10:00:00Z",
        "account_id": "acct-1", "amount": "5.00", "currency": "CNY"}  # fmt: skip


async def test_health_says_recovering_then_ready_then_stale(served: Served) -> None:
    response = await served.get("/health/")
    assert (response.status, (await response.json())["status"]) == (503, "recovering")
    ready(served)
    response = await served.get("/health/")
    assert (response.status, (await response.json())["status"]) == (200, "ready")
    served.clock.now_s += 6
    response = await served.get("/health/")
    body = await response.json()
    assert (response.status, body["status"]) == (503, "stale")
    assert "risk.signals" in body["detail"]


async def test_scoring_needs_the_scorer_role_and_answers_as_a_worker_does(served: Served) -> None:
    assert (await served.client.post("/score/", data=dumps(BODY))).status == 401
    assert (await served.post(BODY, roles=["analyst"])).status == 403
    first = await (await served.post(BODY)).json()
    assert (first["score"], first["reasons"][0]["code"]) == (-1, "RECOVERING")
    ready(served)
    answer = await (await served.post(BODY)).json()
    assert (answer["event_id"], answer["score"], answer["decision"]) == ("tx-1", 0, "accept")
    assert "request_sha256" not in answer and answer["latency_ms"] > 0
    retry = await (await served.post(BODY)).json()
    assert {k: v for k, v in retry.items() if k != "latency_ms"} == {
        k: v for k, v in answer.items() if k != "latency_ms"
    }
    conflict = await served.post({**BODY, "amount": "6.00"})
    assert conflict.status == 409
    bad = await served.post({**BODY, "amount": "lots"})
    assert bad.status == 422 and (await bad.json())["fields"][0]["field"] == "amount"


async def test_only_reads_besides_scoring(served: Served) -> None:
    ready(served)
    for path in ("/rules/", "/models/", "/penalties/", "/profiles/account/acct-1/", "/stats/"):
        response = await served.get(path, roles=["analyst"])
        assert response.status == 200, path
    stats = await (await served.get("/stats/", roles=["analyst"])).json()
    assert stats["followers"]["risk.signals"] == {"lag": 0, "age_s": 0.0}
    # Penalties are written through the workers, which keep the audit trail.
    assert (await served.client.post("/penalties/", data=b"{}", headers={
        "Authorization": f"Bearer {token(['operator'])}", "Content-Type": "application/json",
    })).status == 405  # fmt: skip


async def test_metrics_show_the_followers_and_the_answers(served: Served) -> None:
    ready(served)
    await served.post(BODY)
    served.clock.now_s += 2.5
    text = await (await served.get("/metrics")).text()
    assert "riskstream_scorer_decisions_total 1.0" in text
    assert 'riskstream_scorer_follower_age_seconds{topic="risk.signals"} 2.5' in text
    assert "riskstream_scorer_ready 1.0" in text
