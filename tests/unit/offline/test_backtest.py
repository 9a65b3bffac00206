"""Backtest: replay with ground truth, a report, current rules against a candidate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from riskstream.offline.backtest import BacktestInputs, run_backtest
from riskstream.offline.labels import read_labels
from riskstream.rules.loader import PACK_DIR, load_file
from riskstream.tools.scenarios import build_all
from riskstream.tools.simulate import SimConfig, TrafficSimulator

END = datetime(2026, 11, 1, tzinfo=UTC)


def write_data_set(folder: Path, copies: int = 2) -> tuple[Path, Path]:
    events = TrafficSimulator(
        SimConfig(seed=5, accounts=60, end=END, velocity_attacks=0, takeovers=0, large_spends=0)
    ).events()
    labels = []
    for copy in range(copies):
        base = END - timedelta(days=2) + timedelta(hours=12 * copy)
        for scenario in build_all(base, seed=copy, prefix=f"bt{copy}"):
            events += scenario.events
            instance = f"{scenario.label}#{copy}"
            labels += [
                {"event_id": event.payload["event_id"], "scenario": scenario.rule_id,
                 "instance": instance, "fraud": scenario.positive}
                for event in scenario.events
            ]  # fmt: skip
    events_path, labels_path = folder / "events.jsonl", folder / "labels.jsonl"
    events_path.write_bytes(b"".join(event.encode() + b"\n" for event in events))
    labels_path.write_bytes(b"".join(orjson.dumps(label) + b"\n" for label in labels))
    return events_path, labels_path


def test_every_scenario_is_found_by_its_rule_and_no_look_alike_alerts(tmp_path: Path) -> None:
    events, labels = write_data_set(tmp_path)
    result = run_backtest(BacktestInputs(events, labels, report_dir=tmp_path / "report"))
    current = result.runs["current"]
    assert len(current.scenarios) == 16
    for scenario in current.scenarios:
        assert (scenario.scenario, scenario.recall) == (scenario.scenario, 1.0)
        assert scenario.look_alikes == 2 and scenario.look_alikes_alerted == 0
    assert current.recall == 1.0 and current.fraud_instances == 32
    assert current.precision is not None and current.precision >= 0.8
    assert current.roc_auc is not None and current.average_precision is not None
    by_rule = {rule.rule_id: rule for rule in current.rules}
    assert by_rule["card_testing"].precision == 1.0 and by_rule["card_testing"].alerts == 2
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| card_testing | active | 2 | 100.0% | 100.0% | 0 |" in report
    for name in ("precision_recall.png", "alerts_per_day_current.png"):
        assert (tmp_path / "report" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_candidate_rule_set_is_compared_with_the_current_one(tmp_path: Path) -> None:
    events, labels = write_data_set(tmp_path, copies=1)
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    (velocity,) = [doc for doc in load_file(PACK_DIR / "velocity.yaml")]
    stricter = velocity.model_copy(
        update={"version": 2, "condition": "agg.n > 100 || agg.total > 500000.0"}
    )
    (candidate / "velocity.json").write_bytes(
        orjson.dumps(stricter.model_dump(mode="json", exclude_defaults=True))
    )
    result = run_backtest(
        BacktestInputs(events, labels, candidate=candidate, report_dir=tmp_path / "report")
    )
    current, other = result.runs["current"], result.runs["candidate"]
    assert [rule.rule_id for rule in other.rules] == ["velocity.account"]
    recall = {run: {s.scenario: s.recall for s in e.scenarios} for run, e in result.runs.items()}
    assert recall["current"]["velocity.account"] == 1.0
    assert recall["candidate"]["velocity.account"] == 0.0
    assert other.alerts < current.alerts
    report = (tmp_path / "report" / "report.md").read_text()
    assert "candidate: mode" in report and "alerts_per_day_candidate.png" in report


def test_labels_are_checked_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(
        b'{"event_id": "a", "scenario": "s", "instance": "i1", "fraud": true}\n'
        b'{"event_id": "b", "scenario": "s", "instance": "i1", "fraud": false}\n'
        b"not json\n"
        b'{"event_id": "c", "scenario": "s", "instance": "i2", "fraud": false}\n'
    )
    truth, bad = read_labels(path)
    assert [(line.line, line.reason) for line in bad] == [
        (2, "inconsistent_label"),
        (3, "invalid_label"),
    ]
    assert truth.fraud_event("a") and not truth.fraud_event("c") and not truth.fraud_event("z")
    assert set(truth.instances) == {"i1", "i2"}
