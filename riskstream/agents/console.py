"""Operator endpoints on the Faust web server."""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View

from riskstream.agents.ingest import IngestPipeline
from riskstream.agents.scorer import Scorer


def is_ready(app: faust.App, pipeline: IngestPipeline, scorer: Scorer) -> bool:
    """True once partitions are assigned, tables recovered, and the rules, signals and
    penalties loaded."""
    recovery = app.tables.recovery  # type: ignore[attr-defined]
    return bool(
        not app.rebalancing
        and recovery.completed.is_set()
        and pipeline.center.ready.is_set()
        and scorer.ready()
    )


def register_console(app: faust.App, pipeline: IngestPipeline, scorer: Scorer) -> None:
    center = pipeline.center

    @app.page("/health/")
    async def health(self: View, request: Request) -> Response:
        ready = is_ready(app, pipeline, scorer)
        body: dict[str, Any] = {"status": "ready" if ready else "recovering", "ready": ready}
        return self.json(body, status=200 if ready else 503)

    @app.page("/stats/")
    async def stats(self: View, request: Request) -> Response:
        return self.json(
            {
                "ingest": pipeline.stats.as_dict(),
                "ready": is_ready(app, pipeline, scorer),
                "scorer": {
                    "scored": scorer.scored,
                    "forwarded": scorer.router.forwarded,
                    "forward_failed": scorer.router.failed,
                },
                "rules_version": center.ruleset.version,
                "state_cache": await pipeline.rules.cache_stats(),
            }
        )

    @app.page("/rules/")
    async def rules(self: View, request: Request) -> Response:
        return self.json(
            {
                "version": center.ruleset.version,
                "loaded": center.ready.is_set(),
                "changes": center.changes,
                "rules": center.summary(),
                "refused": [refusal.as_dict() for refusal in center.refusals],
            }
        )
