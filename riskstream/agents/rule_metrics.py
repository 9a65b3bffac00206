"""Per-rule live precision and alert volume as Prometheus gauges, beside Faust's own.

``faust.sensors.prometheus`` serves ``/metrics`` from a prometheus_client registry; this
collector adds to it the figures of ``tables.rule_quality`` at each scrape. Labels are
the rule id (and, for verdicts, the verdict): one series per rule of the pack, never per
entity or transaction. A rule's series are those of its version in force, else of the
newest version that still has alerts in the lookback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from riskstream.agents.rule_center import RuleCenter
from riskstream.tables.rule_quality import RuleKey, RuleQuality

# The collector on each registry, so that an app made again in one process (the tests)
# replaces its predecessor's instead of registering the same names twice.
_REGISTERED: dict[int, Collector] = {}

GAUGES = (
    ("alerts", "riskstream_rule_alerts", "Alerts (signals) of the rule over the lookback."),
    ("judged", "riskstream_rule_alerts_judged", "Alerts of the rule with a verdict."),
    ("precision", "riskstream_rule_precision", "Fraud verdicts / judged alerts."),
    ("precision_low", "riskstream_rule_precision_low", "Wilson 95% interval, low end."),
    ("precision_high", "riskstream_rule_precision_high", "Wilson 95% interval, high end."),
    ("alerts_per_day", "riskstream_rule_alerts_per_day", "Alerts of the rule per day."),
)


def current_figures(
    figures: dict[RuleKey, dict[str, Any]], version_of: Callable[[str], int | None]
) -> dict[str, dict[str, Any]]:
    """Rule id -> the figures of its version in force (``version_of``), else of its
    newest version with alerts."""
    chosen: dict[str, tuple[int, dict[str, Any]]] = {}
    for (rule_id, version), values in figures.items():
        in_force = version_of(rule_id)
        rank = (version == in_force, version)
        known = chosen.get(rule_id)
        if known is None or rank > (known[0] == in_force, known[0]):
            chosen[rule_id] = (version, values)
    return {rule_id: {"version": item[0], **item[1]} for rule_id, item in chosen.items()}


def center_version(center: RuleCenter) -> Callable[[str], int | None]:
    """The version in force of a rule id, None for a rule the center does not hold."""

    def version_of(rule_id: str) -> int | None:
        doc = center.doc(rule_id)
        return None if doc is None else doc.version

    return version_of


class RuleQualityCollector(Collector):
    def __init__(self, quality: RuleQuality, version_of: Callable[[str], int | None]) -> None:
        self.quality = quality
        self.version_of = version_of

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rows = current_figures(self.quality.figures(), self.version_of)
        for key, name, documentation in GAUGES:
            gauge = GaugeMetricFamily(name, documentation, labels=["rule"])
            for rule_id, values in sorted(rows.items()):
                if values[key] is not None:  # no precision without a verdict
                    gauge.add_metric([rule_id], float(values[key]))
            yield gauge
        verdicts = GaugeMetricFamily(
            "riskstream_rule_verdicts", "Judged alerts of the rule by verdict.",
            labels=["rule", "verdict"],
        )  # fmt: skip
        for rule_id, values in sorted(rows.items()):
            for verdict in ("fraud", "legit"):
                verdicts.add_metric([rule_id, verdict], float(values[verdict]))
        yield verdicts


def register_rule_metrics(
    quality: RuleQuality,
    version_of: Callable[[str], int | None],
    registry: CollectorRegistry = REGISTRY,
) -> RuleQualityCollector:
    """The collector, registered on ``registry`` (Faust's sensor serves the default)."""
    collector = RuleQualityCollector(quality, version_of)
    previous = _REGISTERED.pop(id(registry), None)
    if previous is not None:
        registry.unregister(previous)
    registry.register(collector)
    _REGISTERED[id(registry)] = collector
    return collector
