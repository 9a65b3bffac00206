"""``riskstream model train``: a gradient-boosted model from a file of events, trained
only on what was known at its label cut-off.

Rows: the transactions in ``[train_from, cutoff)``, each as :func:`feature_row` of the
evidence the live scorer would have had (the offline scoring pass). Labels, by default
from the feedback events of the same file: a transaction is fraud when the latest verdict
on it dated at or before the cut-off says fraud; every other row is legitimate, as in the
handbook's protocol (a fraud nobody had reported yet is, to the trainer, a legitimate
payment). The pass stops at the first event after the cut-off, so nothing dated later is
even read. ``labels`` mode reads a ground-truth file instead (the simulator's): an
oracle, useful to measure what delayed labels cost, never the protocol.

Training, with defaults chosen before any run and not tuned on our simulator:
- the last ``VALIDATION_SHARE`` of the rows in time is the validation tail (never trained
  on): early stopping on its average precision, the calibration fitted on it, and the
  card's metrics measured on it;
- class imbalance: ``scale_pos_weight = sqrt(negatives / positives)`` (the calibration
  undoes the shift it puts in the raw scores);
- a random forest beside the booster (scikit-learn's, 100 trees, its defaults, a fixed
  seed), fitted on the same head rows: full-depth trees rank the few deterministic
  patterns (a handful of rows a week) that a booster's leaves of ``min_data_in_leaf``
  rows smooth away. It is served by LightGBM (``offline/forest_text``); the model's
  margin is the mean of the booster's log-odds and the forest's (``agents/model_forest``);
- calibration: Platt's logistic on that margin, fitted on the tail. Strictly
  increasing, so it keeps every distinction the booster makes: isotonic regression
  (used before) merged the tail into a few flat steps, tying hundreds of transactions
  at one probability (17 distinct values over 19,095 legitimate rows), which cost
  ranking (average precision) and left the friction budgets no threshold between the
  ties;
- decision thresholds: the probability at which each decision spends its friction budget
  on the tail's legitimate rows (``agents/model_thresholds.py``; the budgets are operator
  settings, not fitted).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from riskstream.agents.model_artefact import (
    ModelArtefact,
    ModelCard,
    PlattCalibration,
)
from riskstream.agents.model_features import FEATURES, feature_row
from riskstream.agents.model_forest import averaged, forest_probability, load_forest, log_odds
from riskstream.agents.model_thresholds import FrictionBudgets, choose_thresholds
from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.forest_text import forest_text
from riskstream.offline.labels import read_labels
from riskstream.offline.rules import rule_center
from riskstream.offline.scoring_pass import ScoringPass
from riskstream.streams.events import Feedback, to_epoch_ms

VALIDATION_SHARE = 0.25
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "metric": "average_precision",
    "seed": 1,
    "deterministic": True,
    "num_threads": 1,
    "verbosity": -1,
}
# scikit-learn's defaults (gini, full depth, sqrt of the features per split, bootstrap),
# its tree count made explicit; one thread, as the booster's.
FOREST: dict[str, Any] = {"n_estimators": 100, "random_state": 0, "n_jobs": 1}
MAX_ROUNDS = 1000
EARLY_STOPPING = 50
TOP_IMPORTANCES = 15


class TrainingError(ValueError):
    """The data cannot make a model (no fraud label before the cut-off, say)."""


@dataclass(slots=True)
class TrainingSet:
    """Feature rows in event-time order, their labels and times."""

    rows: array[float] = field(default_factory=lambda: array("d"))
    labels: list[int] = field(default_factory=list)
    times_ms: list[int] = field(default_factory=list)
    rule_scores: list[int] = field(default_factory=list)  # what the rules alone scored
    event_ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def matrix(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.frombuffer(self.rows, dtype=np.float64).reshape(len(self), len(FEATURES))


def verdicts_at(feedback: list[Feedback], cutoff_ms: int) -> dict[str, str]:
    """Transaction id -> the latest verdict on it dated at or before ``cutoff_ms``."""
    latest: dict[str, tuple[int, str]] = {}
    for item in feedback:
        if item.occurred_ms > cutoff_ms:
            continue
        known = latest.get(item.target_event_id)
        if known is None or item.occurred_ms >= known[0]:
            latest[item.target_event_id] = (item.occurred_ms, item.label)
    return {target: label for target, (_, label) in latest.items()}


def collect(
    events: Path,
    cutoff: datetime,
    train_from: datetime | None = None,
    labels_file: Path | None = None,
    *,
    rules: Path | None = None,
    policy: DecisionPolicy | None = None,
    secret: bytes | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrainingSet:
    """The training rows of ``events`` before ``cutoff`` (from ``train_from``), labelled
    by the file's verdicts at the cut-off, or by ``labels_file``."""
    cutoff_ms = to_epoch_ms(cutoff)
    from_ms = to_epoch_ms(train_from) if train_from is not None else None
    scoring = ScoringPass(rule_center(rules), policy, secret=secret)
    scoring.load(events)
    found = TrainingSet()
    for scored in scoring.run(until_ms=cutoff_ms, progress=progress):
        txn = scored.transaction
        if txn.occurred_ms >= cutoff_ms or (from_ms is not None and txn.occurred_ms < from_ms):
            continue
        found.rows.extend(feature_row(scored.evidence))
        found.times_ms.append(txn.occurred_ms)
        found.rule_scores.append(scored.decision.score)
        found.event_ids.append(txn.event_id)
    if labels_file is None:
        verdicts = verdicts_at(scoring.feedback, cutoff_ms)
        found.labels = [int(verdicts.get(eid) == "fraud") for eid in found.event_ids]
    else:
        truth, _ = read_labels(labels_file)
        keep = [truth.event_class(eid) != "context" for eid in found.event_ids]
        found = _only(found, keep)
        found.labels = [int(truth.fraud_event(eid)) for eid in found.event_ids]
    return found


def _only(found: TrainingSet, keep: list[bool]) -> TrainingSet:
    width = len(FEATURES)
    kept = TrainingSet()
    for index, wanted in enumerate(keep):
        if wanted:
            kept.rows.extend(found.rows[index * width : (index + 1) * width])
            kept.times_ms.append(found.times_ms[index])
            kept.rule_scores.append(found.rule_scores[index])
            kept.event_ids.append(found.event_ids[index])
    return kept


@dataclass(frozen=True, slots=True)
class Trained:
    artefact: ModelArtefact
    seconds: float


def train(
    found: TrainingSet,
    cutoff: datetime,
    *,
    model_id: str = "fraud-gbm",
    labels_from: str = "feedback",
    created_at: datetime | None = None,
    budgets: FrictionBudgets | None = None,
    with_forest: bool = True,
) -> ModelArtefact:
    """A calibrated LightGBM model of ``found``, with a random forest beside it unless
    ``with_forest`` is false (see the module's text)."""
    total = len(found)
    positives = sum(found.labels)
    if total == 0:
        raise TrainingError("no transaction before the cut-off")
    split = int(total * (1 - VALIDATION_SHARE))
    labels = np.asarray(found.labels, dtype=np.int8)
    head_pos, tail_pos = int(labels[:split].sum()), int(labels[split:].sum())
    if head_pos == 0 or tail_pos == 0:
        raise TrainingError(
            f"{positives} fraud labels before the cut-off ({head_pos} in the training part, "
            f"{tail_pos} in the validation tail): both need some"
        )
    matrix = found.matrix()
    negatives = split - head_pos
    params = {**PARAMS, "scale_pos_weight": math.sqrt(negatives / head_pos)}
    names = list(FEATURES)
    train_set = lgb.Dataset(matrix[:split], labels[:split], feature_name=names, free_raw_data=True)
    valid_set = lgb.Dataset(matrix[split:], labels[split:], reference=train_set)
    booster = lgb.train(
        params, train_set, num_boost_round=MAX_ROUNDS, valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)],
    )  # fmt: skip
    best = booster.best_iteration or booster.current_iteration()
    text = booster.model_to_string(num_iteration=best)
    tail_margin = np.asarray(booster.predict(matrix[split:], num_iteration=best, raw_score=True))
    forest = None
    if with_forest:
        fitted = RandomForestClassifier(**FOREST).fit(matrix[:split], labels[:split])
        forest = forest_text(fitted, names)
        # Served as the artefact serves it: LightGBM on the float64 rows.
        tail_forest = forest_probability(load_forest(forest, names), matrix[split:])
        tail_margin = averaged(tail_margin, log_odds(tail_forest))
    tail_labels = labels[split:]
    calibration = calibrate(tail_margin, tail_labels)
    probabilities = np.asarray([calibration.apply(float(m)) for m in tail_margin])
    rule_tail = np.asarray(found.rule_scores[split:], dtype=np.float64)
    gains = booster.feature_importance(importance_type="gain", iteration=best)
    order = sorted(range(len(names)), key=lambda i: -gains[i])[:TOP_IMPORTANCES]
    card = ModelCard(
        train_from=_utc(found.times_ms[0]),
        train_to=_utc(found.times_ms[-1]),
        label_cutoff=cutoff,
        labels_from=labels_from,
        rows=total,
        positives=positives,
        validation_rows=total - split,
        validation_positives=tail_pos,
        metrics={
            "validation_auc": float(roc_auc_score(tail_labels, probabilities)),
            "validation_ap": float(average_precision_score(tail_labels, probabilities)),
            "validation_rules_auc": float(roc_auc_score(tail_labels, rule_tail)),
            "validation_rules_ap": float(average_precision_score(tail_labels, rule_tail)),
            "trees": float(best),
            **({"forest_trees": float(FOREST["n_estimators"])} if forest else {}),
        },
        importances=[(names[i], round(float(gains[i]), 3)) for i in order if gains[i] > 0],
        params={
            **{k: v for k, v in params.items() if isinstance(v, str | int | float | bool)},
            **({f"forest_{k}": v for k, v in FOREST.items() if k != "n_jobs"} if forest else {}),
            "calibration": calibration.kind,
            "validation_share": VALIDATION_SHARE,
        },
    )
    budgets = budgets if budgets is not None else FrictionBudgets()
    thresholds = choose_thresholds(probabilities[tail_labels == 0].tolist(), budgets)
    return ModelArtefact.build(
        model_id=model_id, created_at=created_at or datetime.now(UTC), features=names,
        booster=text, calibration=calibration, card=card, thresholds=thresholds,
        forest=forest,
    )  # fmt: skip


def calibrate(margin: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> PlattCalibration:
    """Platt's logistic on the model's margin (see the module's text)."""
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(margin.reshape(-1, 1), labels)
    return PlattCalibration(a=float(fit.coef_[0][0]), b=float(fit.intercept_[0]))


def _utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
