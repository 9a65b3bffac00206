"""Backtest: replay with ground truth, a report, current rules against a candidate."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from riskstream.offline.backtest import BacktestInputs, run_backtest
from riskstream.offline.labels import read_labels
from riskstream.rules.loader import PACK_DIR, load_file
from riskstream.simulation.scenarios import Scenario, build_all
from riskstream.simulation.traffic import SimConfig, TrafficSimulator

END = datetime(2026, 11, 1, tzinfo=UTC)


def copy_of_every_scenario(copy: int) -> list[Scenario]:
    return build_all(END - timedelta(days=2) + timedelta(hours=12 * copy), copy, f"bt{copy}")


def write_data_set(folder: Path, copies: int = 2, roles: bool = True) -> tuple[Path, Path]:
    """Ordinary traffic with ``copies`` of every scenario; labels with their roles, or
    (``roles=False``) in the format before roles."""
    events = TrafficSimulator(
        SimConfig(seed=5, accounts=60, end=END, velocity_attacks=0, takeovers=0, large_spends=0)
    ).events()
    labels = []
    for copy in range(copies):
        for scenario in copy_of_every_scenario(copy):
            events += scenario.events
            instance = f"{scenario.label}#{copy}"
            labels += [
                {"event_id": event.payload["event_id"], "scenario": scenario.rule_id,
                 "instance": instance, "fraud": scenario.positive,
                 **({"role": event.role} if roles else {})}
                for event in scenario.events
            ]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    events_path, labels_path = folder / "events.jsonl", folder / "labels.jsonl"
    events_path.write_bytes(b"".join(event.encode() + b"\n" for event in events))
    labels_path.write_bytes(b"".join(orjson.dumps(label) + b"\n" for label in labels))
    return events_path, labels_path


def test_every_scenario_is_found_by_its_rule_and_only_hard_negatives_alert(
    tmp_path: Path,
) -> None:
    events, labels = write_data_set(tmp_path)
    result = run_backtest(BacktestInputs(events, labels, report_dir=tmp_path / "report"))
    current = result.runs["current"]
    assert len(current.scenarios) == 17
    hard = Counter(s.rule_id for copy in range(2) for s in copy_of_every_scenario(copy)
                   if s.may_alert)  # fmt: skip
    assert sum(hard.values()) > 0
    told = Counter(s.rule_id for copy in range(2) for s in copy_of_every_scenario(copy)
                   if s.positive and not s.evades)  # fmt: skip
    assert sum(told.values()) < 34  # some frauds evade their rule (these seeds: 5)
    for scenario in current.scenarios:
        # Every fraud over its rule's thresholds is found by it; an evasive one is not.
        assert (scenario.scenario, scenario.by_own_rule) == (scenario.scenario,
                                                              told[scenario.scenario])  # fmt: skip
        # A near miss stays silent; a hard negative is over the thresholds, and counted.
        assert (scenario.scenario, scenario.look_alikes, scenario.look_alikes_alerted) == (
            scenario.scenario, 2, hard[scenario.scenario])  # fmt: skip
    assert current.fraud_instances == 34
    # The hard negatives' alerts are false ones: measured 0.65 with them (1.0 without).
    assert current.precision is not None and 0.5 <= current.precision < 1.0
    assert current.roc_auc is not None and current.average_precision is not None
    # The score measures take the attack transactions as fraud, leave the context out.
    built = [s for copy in range(2) for s in copy_of_every_scenario(copy) if s.positive]
    attack = sum(event.kind == "transaction" for s in built for event in s.attack)
    context = sum(event.kind == "transaction" for s in built for event in s.context)
    assert context > 0
    assert (current.fraud_transactions, current.context_transactions) == (attack, context)
    assert current.unjudged == 0
    assert len(current.curve) > 0 and current.curve[-1].recall == 1.0
    by_rule = {rule.rule_id: rule for rule in current.rules}
    # Two frauds caught, and the one hard negative (a morning of metro fares, then a
    # flight) a false alarm.
    assert hard["card_testing"] == 1
    assert by_rule["card_testing"].precision == 2 / 3 and by_rule["card_testing"].alerts == 3
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| card_testing | active | 3 | 66.7% | 100.0% | 1 |" in report
    assert f"| context transactions (in neither class) | {context} |" in report
    assert "Transactions are judged by role" in report
    for name in ("precision_recall.png", "alerts_per_day_current.png"):
        assert (tmp_path / "report" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_candidate_rule_set_is_compared_with_the_current_one(tmp_path: Path) -> None:
    events, labels = write_data_set(tmp_path, copies=2)
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
    assert recall["current"]["velocity.account"] == 0.5  # copy 0's fraud evades it
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


def test_labels_have_roles_and_files_without_them_still_read(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(
        b'{"event_id": "a", "scenario": "s", "instance": "i1", "fraud": true}\n'
        b'{"event_id": "b", "scenario": "s", "instance": "i1", "fraud": true, "role": "attack"}\n'
        b'{"event_id": "c", "scenario": "s", "instance": "i1", "fraud": true, "role": "context"}\n'
        b'{"event_id": "d", "scenario": "s", "instance": "i2", "fraud": false}\n'
        b'{"event_id": "e", "scenario": "s", "instance": "i2", "fraud": false, "role": "context"}\n'
        b'{"event_id": "f", "scenario": "s", "instance": "i2", "fraud": false, "role": "attack"}\n'
        b'{"event_id": "g", "scenario": "s", "instance": "i2", "fraud": false, "role": "bait"}\n'
    )
    truth, bad = read_labels(path)
    # A look-alike has no attack; a role is one of the two.
    assert [(line.line, line.reason) for line in bad] == [
        (6, "inconsistent_label"),
        (7, "invalid_label"),
    ]
    classes = {event_id: truth.event_class(event_id) for event_id in "abcdez"}
    assert classes == {"a": "fraud", "b": "fraud", "c": "context", "d": "legit", "e": "legit",
                       "z": "legit"}  # fmt: skip
    assert truth.instances["i1"].event_ids == {"a", "b", "c"}
    assert truth.instances["i1"].attack_ids == {"a", "b"}
    assert truth.instances["i2"].attack_ids == frozenset()
    assert truth.in_fraud_instance("c") and not truth.fraud_event("c")


def test_a_label_file_without_roles_gives_the_same_detection(tmp_path: Path) -> None:
    """Old label files (no roles: every event of a fraud instance is its attack) still
    work; alerts and recall are judged by instance, so roles change none of them."""
    runs = {}
    for roles in (True, False):
        events, labels = write_data_set(tmp_path / str(roles), copies=1, roles=roles)
        inputs = BacktestInputs(events, labels, report_dir=tmp_path / f"report-{roles}")
        runs[roles] = run_backtest(inputs).runs["current"]
    with_roles, without = runs[True], runs[False]
    assert without.scenarios == with_roles.scenarios and without.rules == with_roles.rules
    assert (without.alerts, without.true_alerts) == (with_roles.alerts, with_roles.true_alerts)
    assert without.recall == with_roles.recall == 15 / 17  # two of the frauds evade
    assert without.context_transactions == 0 and with_roles.context_transactions > 0
    assert without.fraud_transactions == (
        with_roles.fraud_transactions + with_roles.context_transactions
    )
    assert without.transactions == with_roles.transactions


def test_a_backtest_skips_bad_lines_and_gives_the_same_report_again(tmp_path: Path) -> None:
    events, labels = write_data_set(tmp_path, copies=1)
    bad = tmp_path / "with_bad.jsonl"
    bad.write_bytes(events.read_bytes() + b'{"type": "payment"}\nnot json\n')
    first, second = (
        run_backtest(BacktestInputs(bad, labels, report_dir=tmp_path / name))
        for name in ("first", "second")
    )
    assert first.runs == second.runs
    assert first.runs["current"].alerts > 0
    assert [line.reason for line in first.bad_events] == ["invalid", "not_json"]
    report = (tmp_path / "first" / "report.md").read_text()
    assert report == (tmp_path / "second" / "report.md").read_text()
