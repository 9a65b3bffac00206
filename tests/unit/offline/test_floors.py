"""Detection floors of the default pack on a seeded simulated day.

``riskstream simulate`` makes a day of 1,000 customers' traffic with three instances of
every pack scenario and three look-alikes each; ``riskstream backtest``'s evaluation
runs over it in-process. The floors are the figures measured on this data set minus a
modest margin (measured, seed 7, with hard negatives and variants: 46 of the 51 frauds
recalled by their own rule, the other 5 told in their evasive variant, under the rule's
thresholds, and no scenario below 2/3; 18 of the 51 look-alikes alerted on, the hard
negatives (legitimate behaviour over a rule's thresholds, which the pack cannot tell
apart); 68 alerts of which 20 false: alert precision 70.6%, 40% for the worst rule
(login.brute_force: a forgetful customer's run of failures is a brute force's); the
scores of the attack transactions against the legitimate ones, the context transactions
of the fraud stories left out: ROC AUC 0.571, average precision 0.125). A change to the
pack, the engine or the simulator that falls below them should be looked at, not waved
by. Seed 7 is a tuning seed (docs/simulator.md): never quote these figures as held-out.

The score measures are modest because a transaction is scored from the signals
published before it and those it fires itself on its account's rules: an attack
transaction that completes nothing yet (the first of a burst, a mule's first inflows),
or fires only rules of another entity (device, IP, card, merchant), scores 0 like the
background.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from riskstream.offline.backtest import BacktestInputs, run_backtest
from riskstream.offline.evaluation import Evaluation
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.simulation.output import write_events, write_labels
from riskstream.simulation.scenarios import pack_rule_ids

CONFIG = SimulationConfig(seed=7, customers=1000, days=1.0, fraud_per_pattern=3)

RECALL_FLOOR = 2 / 3  # per scenario, own rule: measured 2/3 at worst (an evasive fraud)
RECALL_ANY_FLOOR = 0.85  # all fraud instances, any rule: measured 0.902
LOOK_ALIKES_ALERTED_TOTAL_MAX = 22  # of 51: measured 18, hard negatives only
PRECISION_FLOOR = 0.65  # all alerts: measured 0.706
RULE_PRECISION_FLOOR = 0.35  # every rule that alerted: measured 0.4 at worst
FALSE_ALERTS_MAX = 25  # alerts touching no fraud instance: measured 20
ROC_AUC_FLOOR = 0.54  # attack against legitimate transactions: measured 0.571
AVERAGE_PRECISION_FLOOR = 0.10  # measured 0.125


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    folder: Path = tmp_path_factory.mktemp("floors")
    quiet = Console(quiet=True)
    dataset = generate(CONFIG)
    write_events(dataset, folder / "events.jsonl", quiet)
    write_labels(dataset, folder / "labels.jsonl")
    inputs = BacktestInputs(folder / "events.jsonl", folder / "labels.jsonl",
                            report_dir=folder / "report")  # fmt: skip
    result = run_backtest(inputs, console=quiet)
    assert result.bad_events == [] and result.bad_labels == []
    return result.runs["current"]


def test_every_scenario_is_recalled_by_its_own_rule(evaluation: Evaluation) -> None:
    scenarios = {s.scenario: s for s in evaluation.scenarios}
    assert set(scenarios) == pack_rule_ids()
    for name, scenario in sorted(scenarios.items()):
        assert scenario.instances == CONFIG.fraud_per_pattern, name
        assert scenario.recall is not None and scenario.recall >= RECALL_FLOOR, name
    assert evaluation.recall is not None and evaluation.recall >= RECALL_ANY_FLOOR


def test_look_alikes_alerted_stay_few(evaluation: Evaluation) -> None:
    for scenario in evaluation.scenarios:
        assert scenario.look_alikes == CONFIG.fraud_per_pattern
    alerted = sum(scenario.look_alikes_alerted for scenario in evaluation.scenarios)
    assert alerted <= LOOK_ALIKES_ALERTED_TOTAL_MAX


def test_alert_precision_overall_and_per_rule(evaluation: Evaluation) -> None:
    assert evaluation.precision is not None and evaluation.precision >= PRECISION_FLOOR
    assert evaluation.alerts - evaluation.true_alerts <= FALSE_ALERTS_MAX
    for rule in evaluation.rules:
        assert rule.alerts > 0, rule.rule_id  # every rule fires on its own scenario
        assert rule.precision is not None and rule.precision >= RULE_PRECISION_FLOOR, rule.rule_id


def test_scores_rank_the_attack_above_the_legitimate(evaluation: Evaluation) -> None:
    assert evaluation.context_transactions > 0  # the stories' history: in neither class
    assert evaluation.fraud_transactions > 0 and evaluation.unjudged == 0
    assert evaluation.roc_auc is not None and evaluation.roc_auc >= ROC_AUC_FLOOR
    assert evaluation.average_precision is not None
    assert evaluation.average_precision >= AVERAGE_PRECISION_FLOOR
