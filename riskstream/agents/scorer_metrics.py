"""``GET /metrics`` of a scorer process: its answers and how far behind its topics it is.

Read from the scorer at each scrape (a collector), so a request pays nothing for them.
One series per followed topic, never per account or event.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from riskstream.agents.account_replica import AccountReplica
from riskstream.agents.scorer import Scorer
from riskstream.streams.freshness import Freshness


class ScorerCollector(Collector):
    def __init__(self, scorer: Scorer, freshness: Freshness, replica: AccountReplica) -> None:
        self.scorer = scorer
        self.freshness = freshness
        self.replica = replica

    def collect(self) -> Iterator[Metric]:
        scorer = self.scorer
        yield CounterMetricFamily(
            "riskstream_scorer_decisions", "Decisions judged and published here.",
            value=scorer.scored,
        )  # fmt: skip
        yield CounterMetricFamily(
            "riskstream_scorer_unconfirmed", "Decisions not read back in time (-1 STALE).",
            value=scorer.unconfirmed,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "riskstream_scorer_ready", "1 while the scorer judges: caught up, within its bound.",
            value=1 if scorer.ready() and scorer.stale() is None else 0,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "riskstream_scorer_accounts_applied", "Account-state records applied since start.",
            value=self.replica.applied,
        )  # fmt: skip
        lag = GaugeMetricFamily(
            "riskstream_scorer_follower_lag", "Records a follower has still to apply.",
            labels=["topic"],
        )  # fmt: skip
        age = GaugeMetricFamily(
            "riskstream_scorer_follower_age_seconds",
            "Seconds since the topic was last read to its end.",
            labels=["topic"],
        )
        for topic, figures in self.freshness.report().items():
            lag.add_metric([topic], figures["lag"])
            age.add_metric([topic], figures["age_s"])
        yield lag
        yield age


def metrics_response(registry: CollectorRegistry) -> web.Response:
    body = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def scorer_registry(
    scorer: Scorer, freshness: Freshness, replica: AccountReplica
) -> CollectorRegistry:
    """A registry of its own (not the process's global one) with the scorer's figures."""
    registry = CollectorRegistry()
    registry.register(ScorerCollector(scorer, freshness, replica))
    return registry
