"""A worker's web server with its guard, served in-process (no broker): the scorer's
writes are recorded instead of produced."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from riskstream.agents.score_request import make_penalty
from riskstream.app import create_app
from riskstream.streams.app import RiskApp
from riskstream.streams.scoring_model import Penalty, PenaltyRequest
from riskstream.streams.settings import Settings
from tests.unit.web.keys import INTERNAL_SECRET, SECRET


@dataclass
class Served:
    app: RiskApp
    client: TestClient  # type: ignore[type-arg]
    added: list[tuple[PenaltyRequest, str]] = field(default_factory=list)
    removed: list[tuple[str, str, str]] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)


async def serve(app_id: str = "riskstream", **overrides: Any) -> Served:
    """``app_id``: one per app in a process (it names the app's Prometheus metrics)."""
    settings = Settings(
        app_id=app_id,
        data_dir=tempfile.mkdtemp(prefix="riskstream-web-"),
        **{"auth_jwt_secret": SECRET, "internal_secret": INTERNAL_SECRET, **overrides},
    )
    app = create_app(settings)
    app.finalize()
    app.web.init_server()
    client = TestClient(TestServer(app.web.web_app))
    served = Served(app, client)
    _record_writes(app, served)
    await client.start_server()
    return served


def _record_writes(app: RiskApp, served: Served) -> None:
    scorer = app.scorer
    for ready in (
        scorer.center.ready, scorer.profiles_ready, scorer.penalties_ready,
        scorer.decisions_ready, scorer.verdicts_ready, scorer.models_ready, scorer.history_ready,
    ):  # fmt: skip
        ready.set()

    async def add_penalty(request: PenaltyRequest, operator: str) -> Penalty:
        served.added.append((request, operator))
        return make_penalty(request, operator, datetime.now(UTC))

    async def remove_penalty(penalty_id: str, operator: str, reason: str) -> Penalty:
        served.removed.append((penalty_id, operator, reason))
        raise KeyError(penalty_id)

    scorer.add_penalty = add_penalty
    scorer.remove_penalty = remove_penalty

    async def produce(
        topic: str, key: bytes, value: bytes | None, partition: Any = None, acked: bool = True
    ) -> None:
        served.sent.append({"topic": topic, "key": key, "value": value, "partition": partition})

    async def partitions(topic: str) -> int:
        return app.settings.partitions

    scorer.host.send = produce
    scorer.host.partitions = partitions
    scorer.host.account_record = lambda account_id: None
    app.score_router.owner = lambda account_id: None


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def served() -> AsyncIterator[Served]:
    handle = await serve()
    yield handle
    await handle.client.close()
