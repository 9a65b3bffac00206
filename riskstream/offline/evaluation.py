"""Scoring a replay against ground truth: alerts per rule and scenario, and the scores.

Alerts are judged by instance, whatever the role of the events they cite: an alert (a
signal) is true when one of the events behind it (its evidence or its trigger) belongs
to a fraud instance. An instance counts as detected by a rule when one of that rule's
alerts touches one of its events. A look-alike instance (``fraud: false``) touched by
its own pattern's rule is a false alarm of that rule.

Transactions are judged by event (:meth:`GroundTruth.event_class`): the score measures
(ROC AUC, average precision, the precision-recall curve) and the decisions by truth take
a fraud instance's attack transactions as fraud, unlabelled and look-alike ones as
legitimate, and leave the context transactions of fraud instances (a victim's ordinary
history, a merchant's normal sales) out of both classes: they are neither the fraud nor
clean background. Their decisions are counted apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from riskstream.offline.labels import EventClass, GroundTruth
from riskstream.offline.metrics import CurvePoint, average_precision, pr_curve, ratio, roc_auc
from riskstream.streams.outputs import Signal


@dataclass(slots=True)
class Collector:
    """Gathers what a replay produced, chunk by chunk."""

    truth: GroundTruth
    alerts: list[tuple[Signal, str]] = field(default_factory=list)  # (signal, mode)
    scores: list[float] = field(default_factory=list)  # fraud and legit transactions only
    labels: list[bool] = field(default_factory=list)
    decisions: Counter[tuple[str, EventClass]] = field(default_factory=Counter)
    unjudged: int = 0
    flagged: set[str] = field(default_factory=set)  # fraud events decided review or above

    def add_alerts(self, signals: Iterable[Signal], shadow: Iterable[Signal]) -> None:
        self.alerts.extend((signal, "active") for signal in signals)
        self.alerts.extend((signal, "shadow") for signal in shadow)

    def add_decision(self, event_id: str, score: int, decision: str) -> None:
        truth = self.truth.event_class(event_id)
        self.decisions[(decision, truth)] += 1
        if decision != "accept" and truth == "fraud":
            self.flagged.add(event_id)
        if score < 0:
            self.unjudged += 1
            return
        if truth == "context":
            return
        self.scores.append(float(score))
        self.labels.append(truth == "fraud")


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule_id: str
    mode: str
    alerts: int
    true_alerts: int
    instances_caught: int  # fraud instances of any scenario
    own_recall: float | None  # of the scenario named after the rule
    false_alarms: int  # look-alikes of its own scenario it alerted on

    @property
    def precision(self) -> float | None:
        return ratio(self.true_alerts, self.alerts)


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    scenario: str
    instances: int
    by_own_rule: int
    by_any_rule: int
    look_alikes: int
    look_alikes_alerted: int
    # Fraud instances with an attack transaction decided review or above: what a model,
    # which raises no alert of its own, is judged by.
    by_decision: int = 0

    @property
    def recall(self) -> float | None:
        return ratio(self.by_own_rule, self.instances)

    @property
    def recall_decided(self) -> float | None:
        return ratio(self.by_decision, self.instances)

    @property
    def recall_any(self) -> float | None:
        return ratio(self.by_any_rule, self.instances)


@dataclass(frozen=True, slots=True)
class Evaluation:
    rules: list[RuleResult]
    scenarios: list[ScenarioResult]
    alerts: int
    true_alerts: int
    fraud_instances: int
    detected_instances: int
    alerts_per_day: dict[str, Counter[date]]
    roc_auc: float | None
    average_precision: float | None
    curve: list[CurvePoint]
    transactions: int  # decided, every class
    fraud_transactions: int  # attack transactions of fraud instances, scored
    context_transactions: int  # decided, in neither class
    unjudged: int
    decisions: Counter[tuple[str, EventClass]]

    @property
    def precision(self) -> float | None:
        return ratio(self.true_alerts, self.alerts)

    @property
    def recall(self) -> float | None:
        return ratio(self.detected_instances, self.fraud_instances)


def _touched(signal: Signal, truth: GroundTruth) -> set[str]:
    ids = {*signal.evidence, signal.trigger_event_id}
    return {truth.instance_of[event_id] for event_id in ids if event_id in truth.instance_of}


def evaluate(collected: Collector, modes: dict[str, str]) -> Evaluation:
    """``modes``: every rule id of the rule set and its mode, so silent rules show too."""
    truth = collected.truth
    alerts: Counter[str] = Counter()
    true_alerts: Counter[str] = Counter()
    caught: dict[str, set[str]] = defaultdict(set)  # rule -> instances touched
    per_day: dict[str, Counter[date]] = defaultdict(Counter)
    for signal, _ in collected.alerts:
        touched = _touched(signal, truth)
        alerts[signal.rule_id] += 1
        per_day[signal.rule_id][signal.detected_at.date()] += 1
        if any(truth.instances[name].fraud for name in touched):
            true_alerts[signal.rule_id] += 1
        caught[signal.rule_id] |= touched

    by_scenario: dict[str, list[str]] = defaultdict(list)
    for name, instance in truth.instances.items():
        by_scenario[instance.scenario].append(name)
    detected_by_any = set().union(*caught.values()) if caught else set()
    scenarios = []
    for scenario, names in sorted(by_scenario.items()):
        fraud = [name for name in names if truth.instances[name].fraud]
        alike = [name for name in names if not truth.instances[name].fraud]
        own = caught.get(scenario, set())
        scenarios.append(
            ScenarioResult(
                scenario=scenario,
                instances=len(fraud),
                by_own_rule=sum(name in own for name in fraud),
                by_any_rule=sum(name in detected_by_any for name in fraud),
                look_alikes=len(alike),
                look_alikes_alerted=sum(name in own for name in alike),
                by_decision=sum(
                    not truth.instances[name].attack_ids.isdisjoint(collected.flagged)
                    for name in fraud
                ),
            )
        )
    scenario_of = {result.scenario: result for result in scenarios}
    rules = []
    for rule_id in sorted(set(modes) | set(alerts)):
        touched = caught.get(rule_id, set())
        own_result = scenario_of.get(rule_id)
        rules.append(
            RuleResult(
                rule_id=rule_id,
                mode=modes.get(rule_id, "?"),
                alerts=alerts[rule_id],
                true_alerts=true_alerts[rule_id],
                instances_caught=sum(truth.instances[name].fraud for name in touched),
                own_recall=own_result.recall if own_result else None,
                false_alarms=own_result.look_alikes_alerted if own_result else 0,
            )
        )
    fraud_instances = [name for name, item in truth.instances.items() if item.fraud]
    scores, labels = collected.scores, collected.labels
    return Evaluation(
        rules=rules,
        scenarios=scenarios,
        alerts=sum(alerts.values()),
        true_alerts=sum(true_alerts.values()),
        fraud_instances=len(fraud_instances),
        detected_instances=sum(name in detected_by_any for name in fraud_instances),
        alerts_per_day=dict(per_day),
        roc_auc=roc_auc(scores, labels),
        average_precision=average_precision(scores, labels),
        curve=pr_curve(scores, labels),
        transactions=sum(collected.decisions.values()),
        fraud_transactions=sum(labels),
        context_transactions=sum(
            count for (_, truth), count in collected.decisions.items() if truth == "context"
        ),
        unjudged=collected.unjudged,
        decisions=collected.decisions,
    )
