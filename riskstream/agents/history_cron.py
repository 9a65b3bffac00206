"""The scheduled engine inside the worker: the leader rebuilds the long-horizon profiles
from the topics each ``RISKSTREAM_PROFILES_PERIOD_MINUTES`` and publishes them; every
worker's replica (``Scorer.history``) picks them up from the profiles topic.

Each build is as of the start of the period its records have settled into (the period
boundary before ``now - profiles_settle_s``): the very times the offline scoring pass
takes its snapshots at (``tables/history_replay``), so a model is served profiles of
the age it was trained on."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC
from typing import Any

import faust

from riskstream.agents.history_job import BuildReport, build_from_topics
from riskstream.streams.settings import Settings
from riskstream.tables.history_replay import period_start

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
    """Schedule the build each period, unless ``profiles_in_worker`` is false."""
    cron = HistoryCron()
    if not settings.profiles_in_worker:
        return cron

    @app.crontab(settings.profiles_cron, timezone=UTC, on_leader=True)
    async def rebuild_profiles() -> None:
        log.info("rebuilding the long-horizon profiles from the topics")
        try:
            # kafka-python blocks: a thread, so that the worker goes on meanwhile.
            as_of_ms = build_time(settings, int(time.time() * 1000))
            report, _, _ = await asyncio.to_thread(build_from_topics, settings, as_of_ms=as_of_ms)
        # Whatever fails (a broker away, a bug), the worker outlives it; the next run
        # takes up the last good state.
        except Exception:
            cron.failures += 1
            log.exception("the profiles build failed")
            return
        cron.builds += 1
        cron.last = report

    return cron


def build_time(settings: Settings, now_ms: int) -> int:
    """The ``as_of`` of a build started at ``now_ms`` (the module's text)."""
    settled_ms = now_ms - int(settings.profiles_settle_s * 1000)
    return period_start(settled_ms, settings.profiles_period_ms)
