"""Per-rule precision as Prometheus gauges (``agents.rule_metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from riskstream.agents.rule_metrics import current_figures, register_rule_metrics
from riskstream.tables.books import ProfileBook
from riskstream.tables.rule_quality import RuleQuality


def signal(rule: str, version: int, trigger: str) -> dict[str, object]:
    return {
        "signal_id": f"sig-{rule}-{version}-{trigger}", "rule_id": rule,
        "rule_version": version, "detected_at": "2026-11-02T00:00:00Z",
        "trigger_event_id": trigger,
    }  # fmt: skip


def test_gauges_per_rule_id_for_the_version_in_force() -> None:
    book = ProfileBook()
    quality = RuleQuality(book.verdict)
    for item in (signal("r.a", 1, "t1"), signal("r.a", 2, "t2"), signal("r.a", 2, "t3"),
                 signal("r.b", 1, "t4")):  # fmt: skip
        quality.apply_signal(item)
    for target, label in (("t2", "fraud"), ("t3", "legit")):
        book.apply_verdict(target, label, 1)
        quality.reconsider(target)
    registry = CollectorRegistry()
    register_rule_metrics(quality, {"r.a": 2}.get, registry)
    # Made again (an app created twice in one process): replaced, not registered twice.
    register_rule_metrics(quality, {"r.a": 2}.get, registry)
    text = generate_latest(registry).decode()
    assert 'riskstream_rule_alerts{rule="r.a"} 2.0' in text  # version 2's, in force
    assert 'riskstream_rule_precision{rule="r.a"} 0.5' in text
    assert 'riskstream_rule_verdicts{rule="r.a",verdict="fraud"} 1.0' in text
    assert 'riskstream_rule_verdicts{rule="r.a",verdict="legit"} 1.0' in text
    # No verdict on r.b: counted, but no precision shown.
    assert 'riskstream_rule_alerts{rule="r.b"} 1.0' in text
    assert 'riskstream_rule_precision{rule="r.b"}' not in text
    assert "version" not in text.replace("# HELP", "")


def test_without_the_rule_in_force_the_newest_version_is_shown() -> None:
    figures = {("r.a", 1): {"alerts": 5}, ("r.a", 3): {"alerts": 1}, ("r.a", 2): {"alerts": 2}}
    assert current_figures(figures, lambda rule_id: None)["r.a"] == {"version": 3, "alerts": 1}
    assert current_figures(figures, lambda rule_id: 1)["r.a"] == {"version": 1, "alerts": 5}
