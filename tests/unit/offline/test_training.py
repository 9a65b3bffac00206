"""Training takes only what was known at its cut-off; the model it makes is calibrated
on data it did not train on."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.agents.model_features import FEATURES
from riskstream.agents.model_thresholds import FrictionBudgets, choose_thresholds
from riskstream.offline.training import TrainingError, TrainingSet, collect, train, verdicts_at
from riskstream.streams.events import Feedback, to_epoch_ms

START = datetime(2026, 11, 2, tzinfo=UTC)
CUTOFF = START + timedelta(days=2)
SECOND = timedelta(seconds=1)


def payment(
    event_id: str, at: datetime, amount: str = "20.00", account: str = "a1"
) -> dict[str, Any]:
    return {
        "event_id": event_id, "type": "payment", "occurred_at": at.isoformat(),
        "account_id": "a1", "counterparty_id": "shop", "amount": amount, "currency": "CNY",
    }  # fmt: skip


def verdict(event_id: str, target: str, at: datetime, label: str = "fraud") -> dict[str, Any]:
    return {
        "event_id": event_id, "type": "feedback", "occurred_at": at.isoformat(),
        "account_id": "a1", "target_event_id": target, "label": label,
    }  # fmt: skip


def write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(event) + b"\n" for event in events))
    return path


def test_no_verdict_dated_after_the_cutoff_labels_a_row(tmp_path: Path) -> None:
    hour = timedelta(hours=1)
    events = [
        payment("t-at", START + hour),  # judged fraud exactly at the cut-off: counts
        payment("t-late", START + 2 * hour),  # judged fraud one second after it: does not
        payment("t-cleared", START + 3 * hour),  # fraud, then legit, both before: legit
        payment("t-early", START + 4 * hour),  # judged fraud the next day: counts
        payment("t-plain", START + 5 * hour),  # never judged
        payment("t-after", CUTOFF + hour),  # after the cut-off: no row
        verdict("f1", "t-at", CUTOFF),
        verdict("f2", "t-late", CUTOFF + SECOND),
        verdict("f3", "t-cleared", START + 6 * hour),
        verdict("f4", "t-cleared", START + 7 * hour, "legit"),
        verdict("f5", "t-early", START + timedelta(days=1)),
        verdict("f6", "t-after", CUTOFF + 2 * hour),
    ]
    found = collect(write(tmp_path / "events.jsonl", events), CUTOFF)
    assert dict(zip(found.event_ids, found.labels, strict=True)) == {
        "t-at": 1, "t-late": 0, "t-cleared": 0, "t-early": 1, "t-plain": 0,
    }  # fmt: skip
    assert all(at < to_epoch_ms(CUTOFF) for at in found.times_ms)
    assert len(found.rows) == len(found) * len(FEATURES)


def test_train_from_drops_the_older_rows(tmp_path: Path) -> None:
    events = [payment("t-old", START), payment("t-new", START + timedelta(days=1))]
    found = collect(write(tmp_path / "e.jsonl", events), CUTOFF, START + timedelta(hours=1))
    assert found.event_ids == ["t-new"]


def test_verdicts_at_keeps_the_latest_up_to_the_cutoff() -> None:
    def fb(target: str, at: datetime, label: str) -> Feedback:
        body = verdict(f"f-{target}-{label}-{at.timestamp()}", target, at, label)
        return Feedback.model_validate(body)

    items = [
        fb("x", START, "legit"), fb("x", START + SECOND, "fraud"),
        fb("y", START, "fraud"), fb("y", CUTOFF + SECOND, "legit"),
        fb("z", CUTOFF + SECOND, "fraud"),
    ]  # fmt: skip
    assert verdicts_at(items, to_epoch_ms(CUTOFF)) == {"x": "fraud", "y": "fraud"}


def synthetic(rows: int, rate: float, seed: int = 3) -> TrainingSet:
    """Rows where a high amount and a signal on the account mean fraud, more or less."""
    rng = random.Random(seed)
    found = TrainingSet()
    width = len(FEATURES)
    amount, signal = FEATURES.index("amount"), FEATURES.index("sev_account")
    for index in range(rows):
        fraud = rng.random() < rate
        row = [rng.random() for _ in range(width)]
        row[amount] = rng.gauss(900 if fraud else 100, 150)
        row[signal] = 60.0 if (fraud and rng.random() < 0.7) or rng.random() < 0.02 else 0.0
        found.rows.extend(row)
        found.labels.append(int(fraud))
        found.times_ms.append(1_700_000_000_000 + index * 60_000)
        found.rule_scores.append(int(row[signal]))
        found.event_ids.append(f"t{index}")
    return found


def test_train_makes_a_loadable_calibrated_model_with_its_card() -> None:
    found = synthetic(4000, 0.05)
    model = train(found, CUTOFF, created_at=START)
    again = ModelArtefact.from_bytes(model.to_bytes())
    card = again.card
    assert card.rows == 4000 and card.positives == sum(found.labels)
    assert card.validation_rows == 1000
    assert card.label_cutoff == CUTOFF
    assert card.metrics["validation_auc"] > 0.9
    assert {"validation_ap", "validation_rules_auc", "validation_rules_ap"} <= set(card.metrics)
    assert card.importances[0][0] in {"amount", "sev_account"}
    assert again.features == FEATURES
    high, low = [0.5] * len(FEATURES), [0.5] * len(FEATURES)
    high[FEATURES.index("amount")], low[FEATURES.index("amount")] = 1200.0, 80.0
    assert again.probability(high) > again.probability(low)


def test_calibration_is_platt_and_keeps_the_boosters_ranking() -> None:
    found = synthetic(4000, 0.2)
    model = train(found, CUTOFF)
    assert model.record.calibration.kind == "platt"
    tail = found.matrix()[3000:].tolist()
    probabilities = model.probabilities(tail)
    margins = [model.margin(row) for row in tail]
    # Strictly increasing: distinct margins stay distinct probabilities, in order.
    assert len(set(probabilities)) == len(set(margins))
    pairs = sorted(zip(margins, probabilities, strict=True))
    assert all(a[1] < b[1] for a, b in itertools.pairwise(pairs) if a[0] < b[0])


def test_calibrated_probabilities_match_the_fraud_rate_on_the_tail() -> None:
    found = synthetic(8000, 0.2)
    model = train(found, CUTOFF)
    matrix = found.matrix()[6000:]
    probabilities = model.probabilities(matrix.tolist())
    assert np.mean(probabilities) == pytest.approx(np.mean(found.labels[6000:]), abs=0.01)


def test_no_fraud_label_is_a_clear_error() -> None:
    with pytest.raises(TrainingError, match="fraud labels"):
        train(synthetic(500, 0.0), CUTOFF)
    with pytest.raises(TrainingError, match="no transaction"):
        train(TrainingSet(), CUTOFF)


def test_thresholds_spend_each_budget_on_the_tail_s_legitimate_rows() -> None:
    found = synthetic(8000, 0.05)
    budgets = FrictionBudgets(review=0.05, challenge=0.01, reject=0.004)
    model = train(found, CUTOFF, budgets=budgets)
    tail = model.probabilities(found.matrix()[6000:].tolist())
    legitimate = [p for p, label in zip(tail, found.labels[6000:], strict=True) if not label]
    assert model.thresholds == choose_thresholds(legitimate, budgets)
    chosen = model.thresholds
    assert chosen is not None and chosen.legitimate_rows == len(legitimate)
    for choice in chosen.choices():
        assert choice.probability is not None
        spent = sum(p >= choice.probability for p in legitimate)
        assert spent == choice.legitimate_at_or_above <= choice.budget * len(legitimate)
    assert chosen.review.probability < chosen.challenge.probability < chosen.reject.probability  # type: ignore[operator]
    # Without budgets, the settings' defaults.
    assert train(found, CUTOFF).thresholds == choose_thresholds(legitimate, FrictionBudgets())


def test_a_forest_on_the_head_rows_is_averaged_with_the_booster() -> None:
    found = synthetic(4000, 0.05)
    model = train(found, CUTOFF)
    assert model.has_forest and model.card.metrics["forest_trees"] == 100
    assert model.card.params["forest_n_estimators"] == 100
    forest = model.record.forest
    assert forest is not None
    # Each tree's bootstrap draws as many rows as the head holds: the tail (the
    # calibration's and the thresholds' rows) is never trained on.
    roots = [line for line in forest.splitlines() if line.startswith("internal_count=")]
    assert len(roots) == 100 and {int(line.split("=")[1].split()[0]) for line in roots} == {3000}
    alone = train(found, CUTOFF, with_forest=False)
    assert not alone.has_forest and "forest_trees" not in alone.card.metrics
    assert alone.record.booster == model.record.booster  # the same booster beside it
