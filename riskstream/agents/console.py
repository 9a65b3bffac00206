"""Operator endpoints on the Faust web server."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.web import Request, Response, View

from riskstream.agents.ingest import IngestPipeline
from riskstream.agents.memory_usage import Trims, memory_usage
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.score_routing import ScoreRouter
from riskstream.agents.scorer import Scorer
from riskstream.streams.health import HealthMonitor
from riskstream.streams.kafka_view import kafka_view
from riskstream.tables.rule_quality import RuleKey, empty_figures
from riskstream.tables.store_memory import StoreMemory

HEALTH_CHECK_INTERVAL_S = 1.0


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


def health(
    app: faust.App, pipeline: IngestPipeline, scorer: Scorer, monitor: HealthMonitor
) -> dict[str, Any]:
    """``/health/``'s body: ready, or why not (from memory only: it is polled)."""
    verdict = monitor.verdict
    if not verdict.healthy:
        return {"status": "not_ready", "ready": False, "reason": verdict.reason,
                "detail": verdict.detail}  # fmt: skip
    if not is_ready(app, pipeline, scorer):
        return {"status": "recovering", "ready": False, "reason": "recovering"}
    return {"status": "ready", "ready": True}


def with_feedback(row: dict[str, Any], figures: dict[RuleKey, dict[str, Any]]) -> dict[str, Any]:
    """A detection rule's row of ``/rules/`` with its version's live figures from
    verdicts (``tables.rule_quality``); a scoring rule's row as it is."""
    if row["kind"] != "detect":
        return row
    return {**row, "feedback": figures.get((row["id"], row["version"])) or empty_figures()}


def _cron_stats(app: faust.App) -> dict[str, Any]:
    cron = getattr(app, "history_cron", None)
    return cron.as_dict() if cron is not None else {}


def register_console(
    app: faust.App,
    pipeline: IngestPipeline,
    scorer: Scorer,
    router: ScoreRouter,
    store: StoreMemory | None = None,
) -> None:
    center = pipeline.center
    settings = pipeline.settings
    monitor = HealthMonitor(settings.health_broker_timeout_s, settings.health_stall_timeout_s)
    watched = [*pipeline.inputs.topics, pipeline.rekey_topic_name]

    @app.timer(interval=HEALTH_CHECK_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def watch_kafka() -> None:
        monitor.observe(kafka_view(app, watched))

    @app.page("/health/")
    async def health_page(self: View, request: Request) -> Response:
        body = health(app, pipeline, scorer, monitor)
        return self.json(body, status=200 if body["ready"] else 503)

    @app.page("/stats/")
    async def stats(self: View, request: Request) -> Response:
        return self.json(
            {
                "ingest": {**pipeline.stats.as_dict(), "held": pipeline.held},
                "stage_timings": pipeline.timings.as_dict(),
                "ready": health(app, pipeline, scorer, monitor)["ready"],
                "scorer": {
                    "scored": scorer.scored,
                    "forwarded": router.forwarded,
                    "forward_failed": router.failed,
                },
                "models": scorer.models.stats(),
                "profiles": {
                    "entities": len(scorer.history),
                    "as_of_ms": scorer.history.as_of_ms,
                    "refused": dict(scorer.history.refused),
                    **_cron_stats(app),
                },
                # The form each decision's rules_version takes: detection and scoring.
                "rules_version": center.version,
                "state_cache": await pipeline.rules.cache_stats(),
                "store_memory": store.usage() if store is not None else {},
            }
        )

    trims = Trims(settings.malloc_trim_free_mb * 2**20)
    if settings.malloc_trim_interval_s > 0:

        @app.timer(interval=settings.malloc_trim_interval_s)  # type: ignore[untyped-decorator]
        async def give_back_free_memory() -> None:
            # In a thread of its own: a trim of a large heap takes tens of milliseconds,
            # and ctypes lets go of the GIL meanwhile.
            await asyncio.to_thread(trims.trim)

    @app.page("/stats/memory/")
    async def memory(self: View, request: Request) -> Response:
        # Apart from /stats/: with tracemalloc on, a snapshot takes seconds.
        return self.json(memory_usage(trims))

    @app.page("/rules/")
    async def rules(self: View, request: Request) -> Response:
        return self.json(rules_body(center, scorer))

    @app.page("/models/")
    async def models(self: View, request: Request) -> Response:
        return self.json(models_body(scorer))


def rules_body(center: RuleCenter, scorer: Scorer) -> dict[str, Any]:
    """``/rules/``: the rules in force, their live figures, the refused records."""
    figures = scorer.quality.figures()
    return {
        # The rules_version of the decisions judged with these rules.
        "version": center.version,
        "loaded": center.ready.is_set(),
        "changes": center.changes,
        "rules": [with_feedback(row, figures) for row in center.summary()],
        # Every rule version with alerts in the lookback (an older version's alerts are
        # judged too, after a change).
        "feedback": [
            {"id": rule_id, "version": version, **values}
            for (rule_id, version), values in sorted(figures.items())
        ],
        "refused": [refusal.as_dict() for refusal in center.refusals],
    }


def models_body(scorer: Scorer) -> dict[str, Any]:
    """``/models/``: the models read from the models topic and their modes."""
    book = scorer.models.book
    return {
        "loaded": scorer.models_ready.is_set(),
        "active": book.active.model_id if book.active is not None else None,
        "changes": book.changes,
        "models": scorer.models.summary(),
        "refused": [refusal.as_dict() for refusal in book.refusals],
    }
