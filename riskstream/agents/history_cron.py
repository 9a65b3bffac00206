"""The scheduled engine inside the worker: the leader rebuilds the long-horizon profiles
from the topics on ``RISKSTREAM_PROFILES_CRON`` and publishes them; every worker's
replica (``Scorer.history``) picks them up from the profiles topic."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC
from typing import Any

import faust

from riskstream.agents.history_job import BuildReport, build_from_topics
from riskstream.streams.settings import Settings

log = logging.getLogger(__name__)


class HistoryCron:
    """The last build's outcome, for ``/stats/``."""

    def __init__(self) -> None:
        self.builds = 0
        self.failures = 0
        self.last: BuildReport | None = None

    def as_dict(self) -> dict[str, Any]:
        last = self.last
        return {
            "builds": self.builds,
            "failures": self.failures,
            **({"last_as_of_ms": last.as_of_ms, "last_entities": last.entities} if last else {}),
        }


def register_history_cron(app: faust.App, settings: Settings) -> HistoryCron:
    """Schedule the build unless ``profiles_cron`` is empty."""
    cron = HistoryCron()
    if not settings.profiles_cron.strip():
        return cron

    @app.crontab(settings.profiles_cron, timezone=UTC, on_leader=True)
    async def rebuild_profiles() -> None:
        log.info("rebuilding the long-horizon profiles from the topics")
        try:
            # kafka-python blocks: a thread, so that the worker goes on meanwhile.
            report, _, _ = await asyncio.to_thread(build_from_topics, settings)
        # Whatever fails (a broker away, a bug), the worker outlives it; the next run
        # takes up the last good state.
        except Exception:
            cron.failures += 1
            log.exception("the profiles build failed")
            return
        cron.builds += 1
        cron.last = report

    return cron
