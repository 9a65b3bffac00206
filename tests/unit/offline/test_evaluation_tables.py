"""Friction, precision@k and the side-by-side tables, on hand-made collections."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from riskstream.offline.evaluation import Collector, evaluate, friction_rates
from riskstream.offline.labels import GroundTruth, Instance
from riskstream.offline.report import build_tables
from riskstream.offline.subjects import read_subjects

DAY = date(2026, 11, 2)


def truth() -> GroundTruth:
    fraud = Instance("mule#1", "mule.fan_in", True, frozenset({"f1", "f2", "c1"}),
                     frozenset({"f1", "f2"}))  # fmt: skip
    alike = Instance("negative:mule#1", "mule.fan_in", False, frozenset({"n1"}))
    return GroundTruth(
        {fraud.instance: fraud, alike.instance: alike},
        {"f1": "mule#1", "f2": "mule#1", "c1": "mule#1", "n1": "negative:mule#1"},
        {"f1": "attack", "f2": "attack", "c1": "context", "n1": "context"},
    )


def collected() -> Collector:
    subjects = {name: (f"acct-{name}", DAY) for name in ("f1", "f2", "c1", "n1", "l1", "l2",
                                                          "l3", "l4")}  # fmt: skip
    subjects["f2"] = ("acct-f1", DAY)  # both attack transactions are one account's
    collector = Collector(truth(), subjects=subjects)
    # Legitimate: n1 (look-alike) rejected, l1 challenged, l2 reviewed, l3 and l4 accepted.
    for event_id, score, decision in (
        ("f1", 90, "reject"), ("f2", 0, "accept"), ("c1", 95, "reject"),
        ("n1", 85, "reject"), ("l1", 65, "challenge"), ("l2", 45, "review"),
        ("l3", 0, "accept"), ("l4", 0, "accept"),
    ):  # fmt: skip
        collector.add_decision(event_id, score, decision)
    return collector


def test_friction_counts_legitimate_transactions_at_or_above_each_threshold() -> None:
    evaluation = evaluate(collected(), {}, top_k=2)
    # Five legitimate (the look-alike n1, l1..l4); the context c1 is in neither class.
    assert evaluation.friction == {
        "review": pytest.approx(3 / 5),
        "challenge": pytest.approx(2 / 5),
        "reject": pytest.approx(1 / 5),
    }
    assert friction_rates(Counter()) == {
        "review": None, "challenge": None, "reject": None,
    }  # fmt: skip


def test_precision_at_k_of_accounts_leaves_context_out() -> None:
    collector = collected()
    # The context transaction (score 95) would rank its account first; it is not counted.
    assert "acct-c1" not in {account for _, account, _, _ in collector.accounts}
    evaluation = evaluate(collector, {}, top_k=2)
    # Accounts by best score: acct-f1 90 (fraud), acct-n1 85, acct-l1 65, ...
    assert evaluation.precision_at_k == pytest.approx(0.5)
    assert evaluate(collected(), {}, top_k=1).precision_at_k == 1.0
    # Without subjects there is nothing to rank.
    bare = Collector(truth())
    bare.add_decision("f1", 90, "reject")
    assert evaluate(bare, {}).precision_at_k is None


def test_the_tables_put_every_run_side_by_side() -> None:
    runs = {"current": evaluate(collected(), {}, top_k=2), "rules+model": evaluate(
        collected(), {}, top_k=2)}  # fmt: skip
    tables = {table.title: table for table in build_tables(runs)}
    overview = {row[0]: row[1:] for row in tables["Overview"].rows}
    assert overview["precision@2 of accounts (daily mean)"] == ("0.500", "0.500")
    assert overview["friction: legitimate at challenge or above"] == ("40.00%", "40.00%")
    assert overview["friction: legitimate at reject or above"] == ("20.00%", "20.00%")
    recall = tables["Recall per scenario"]
    assert recall.columns == (
        "scenario",
        "current: by its rule",
        "current: rule or stopped",
        "rules+model: by its rule",
        "rules+model: rule or stopped",
    )
    # No alert at all, but the fraud's first transaction was rejected: caught.
    assert recall.rows == [("mule.fan_in", "0/1 (0.0%)", "1/1 (100.0%)", "0/1 (0.0%)",
                            "1/1 (100.0%)")]  # fmt: skip
    assert tables["Alerts per day"].columns == ("day", "current", "rules+model")


def test_subjects_are_read_from_transactions_and_bad_lines_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b'{"event_id": "t1", "account_id": "a", "amount": "5", '
        b'"occurred_at": "2026-11-02T23:30:00-02:00"}\n'
        b'{"event_id": "t2", "account_id": "b", "amount": "5", "occurred_at": 1793577600000}\n'
        b'{"event_id": "e1", "account_id": "a", "occurred_at": "2026-11-02T10:00:00Z"}\n'
        b"not json\n[1, 2]\n"
        b'{"event_id": "t3", "account_id": "c", "amount": "5", "occurred_at": "yesterday"}\n'
        b'{"event_id": 4, "account_id": "c", "amount": "5", "occurred_at": "2026-11-02"}\n'
    )
    assert read_subjects(path) == {
        "t1": ("a", date(2026, 11, 3)),  # 23:30 at -02:00 is the next UTC day
        "t2": ("b", date(2026, 11, 2)),
    }


def test_an_instance_is_caught_by_a_stopping_decision_on_its_attack_only() -> None:
    collector = Collector(truth())
    # The context (a victim's history) rejected and the attack only reviewed: not caught.
    collector.add_decision("c1", 95, "reject")
    collector.add_decision("f1", 45, "review")
    collector.add_decision("n1", 90, "reject")  # a look-alike's transaction
    assert evaluate(collector, {}).scenarios[0].caught == 0
    collector.add_decision("f2", 65, "challenge")
    result = evaluate(collector, {}).scenarios[0]
    assert (result.caught, result.recall_caught, result.by_own_rule) == (1, 1.0, 0)
