from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import orjson
import pytest

import riskstream.agents.model_artefact as artefact_module
import tests.model_artefacts
from riskstream.agents.model_artefact import (
    MAX_ARTEFACT_BYTES,
    IsotonicCalibration,
    ModelArtefact,
    ModelCard,
    PlattCalibration,
    content_version,
)
from riskstream.agents.model_forest import forest_probability, load_forest, log_odds
from riskstream.agents.model_thresholds import (
    DecisionThresholds,
    FrictionBudgets,
    choose_thresholds,
)
from riskstream.agents.scoring import DecisionPolicy

FEATURES = ("amount", "hour", "signals")
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


@cache
def booster_text(names: tuple[str, ...] = FEATURES) -> str:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, len(names)))
    y = (x[:, 0] + 0.5 * rng.normal(size=400) > 1.0).astype(int)
    params = {"objective": "binary", "num_leaves": 4, "verbosity": -1, "num_threads": 1}
    data = lgb.Dataset(x, y, feature_name=list(names))
    return str(lgb.train(params, data, num_boost_round=10).model_to_string())


def card() -> ModelCard:
    return ModelCard(
        train_from=WHEN, train_to=WHEN, label_cutoff=WHEN, rows=400, positives=60,
        metrics={"auc": 0.9}, importances=[("amount", 12.0)],
    )  # fmt: skip


def artefact(**extra: Any) -> ModelArtefact:
    body: dict[str, Any] = {
        "model_id": "fraud-gbm", "created_at": WHEN, "features": FEATURES,
        "booster": booster_text(), "calibration": PlattCalibration(a=1.0, b=0.0), "card": card(),
    }  # fmt: skip
    return ModelArtefact.build(**{**body, **extra})


def record(**changes: Any) -> dict[str, Any]:
    """A valid record with ``changes`` applied, its version recomputed."""
    body = {**artefact().to_dict(), **changes}
    body["version"] = content_version(body)
    return body


def test_round_trip_keeps_content_version_and_scores() -> None:
    model = artefact()
    again = ModelArtefact.from_bytes(model.to_bytes())
    assert again.version == model.version
    assert len(model.version) == 12
    assert again.to_bytes() == model.to_bytes()
    row = [2.0, 0.0, 1.0]
    assert again.probability(row) == model.probability(row)
    assert model.probability(row) > model.probability([-2.0, 0.0, 1.0])


def test_platt_is_a_logistic_on_the_margin() -> None:
    model = artefact(calibration=PlattCalibration(a=2.0, b=-1.0))
    row = [1.5, 0.0, 0.0]
    margin = model.margin(row)
    assert model.probability(row) == pytest.approx(1 / (1 + math.exp(-(2 * margin - 1))))


def test_isotonic_interpolates_the_booster_probability() -> None:
    calibration = IsotonicCalibration(x=[0.0, 0.5, 1.0], y=[0.0, 0.2, 1.0])
    model = artefact(calibration=calibration)
    row = [1.5, 0.0, 0.0]
    raw = 1 / (1 + math.exp(-model.margin(row)))
    assert model.probability(row) == pytest.approx(float(np.interp(raw, [0, 0.5, 1], [0, 0.2, 1])))


def test_nan_is_unknown_and_scored() -> None:
    assert 0.0 <= artefact().probability([math.nan] * 3) <= 1.0


def test_batch_and_single_row_agree() -> None:
    model = artefact()
    rows = [[2.0, 0.0, 1.0], [-1.0, math.nan, 0.0]]
    assert model.probabilities(rows) == [model.probability(row) for row in rows]


def test_contributions_name_the_strongest_features() -> None:
    top = artefact().contributions([3.0, 0.0, 0.0], k=1)
    assert top[0][0] == "amount"
    assert top[0][1] > 0


def test_a_row_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="3"):
        artefact().probability([1.0])


def test_version_changes_with_content() -> None:
    assert artefact().version != artefact(model_id="other").version


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"x" * (MAX_ARTEFACT_BYTES + 1), "limit"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"{}", "model_id"),
    ],
)
def test_garbage_is_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        ModelArtefact.from_bytes(raw)


def load(body: dict[str, Any]) -> ModelArtefact:
    return ModelArtefact.from_bytes(orjson.dumps(body))


def test_an_edited_record_is_refused_for_its_version() -> None:
    body = artefact().to_dict()
    body["card"]["positives"] = 1
    with pytest.raises(ValueError, match="version"):
        load(body)


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="extra"):
        load(record(extra=1))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"booster": "tree\ngarbage"}, "not a LightGBM model"),
        ({"booster": "hello"}, "not a LightGBM model"),
        ({"booster": "tree\nobjective=binary\nTree=0\nnonsense=1\nend of trees\n"}, "cannot read"),
        ({"features": ["a", "b"]}, "2"),
        ({"features": ["amount", "hour", "other"]}, "names differ"),
        ({"features": ["amount", "amount", "x"]}, "once"),
        ({"features": ["bad name"]}, "features"),
        ({"calibration": {"kind": "isotonic", "x": [0, 1], "y": [1, 0]}}, "non-decreasing"),
        ({"calibration": {"kind": "isotonic", "x": [0, 1], "y": [0]}}, "same number"),
        ({"calibration": {"kind": "platt", "a": "nan", "b": 0}}, "calibration"),
        ({"calibration": {"kind": "magic"}}, "calibration"),
        ({"library": "xgboost 2"}, "library"),
        ({"created_at": "2026-12-01T00:00:00"}, "created_at"),
    ],
)
def test_hostile_records_are_refused_with_a_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        load(record(**changes))


def test_a_regression_booster_is_refused() -> None:
    text = booster_text().replace("objective=binary sigmoid:1", "objective=regression")
    with pytest.raises(ValueError, match="binary"):
        load(record(booster=text))


def test_card_counts_are_checked() -> None:
    with pytest.raises(ValueError, match="positives"):
        ModelCard(
            train_from=WHEN, train_to=WHEN, label_cutoff=WHEN, rows=1, positives=2, metrics={}
        )


OLD_ARTEFACT = Path(__file__).parents[2] / "data" / "artefact-before-thresholds.json"


def thresholds() -> DecisionThresholds:
    chosen = choose_thresholds([0.3, 0.2, 0.1] + [0.01] * 197, FrictionBudgets())
    assert chosen is not None
    return chosen


def test_thresholds_travel_in_the_record_and_its_version() -> None:
    model = artefact(thresholds=thresholds())
    again = ModelArtefact.from_bytes(model.to_bytes())
    assert again.thresholds == thresholds()
    assert again.version == model.version != artefact().version
    assert again.to_bytes() == model.to_bytes()
    # Of 200 legitimate rows, review may take 3 (from 0.1 on); challenge and reject none
    # (from just above the highest, 0.3, on).
    assert again.points(0.1, DecisionPolicy()) == 40
    assert again.points(0.3, DecisionPolicy()) == 59
    assert again.points(math.nextafter(0.3, 1.0), DecisionPolicy()) == 80
    body = model.to_dict()
    body["thresholds"]["review"]["probability"] = 0.5
    with pytest.raises(ValueError, match="version"):
        load(body)


def test_an_artefact_made_before_thresholds_loads_keeps_its_bytes_and_scores_100_p() -> None:
    raw = OLD_ARTEFACT.read_bytes()  # written by the code before thresholds existed
    assert b"thresholds" not in raw
    old = ModelArtefact.from_bytes(raw)
    assert old.version == "fb4f2d8b1c00" and old.thresholds is None
    assert old.to_bytes() == raw
    assert old.points(0.394, DecisionPolicy()) == 39
    assert old.points(0.6, DecisionPolicy()) == 60
    # Built anew without thresholds: the same record, the same version.
    assert artefact(thresholds=None).to_dict().keys() == orjson.loads(raw).keys()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"legitimate_rows": 0}, "legitimate_rows"),
        ({"review": {"budget": 0.0, "probability": 0.1, "legitimate_at_or_above": 0}}, "budget"),
        ({"review": {"budget": 0.1, "probability": 1.5, "legitimate_at_or_above": 0}}, "prob"),
        ({"review": {"budget": 0.1, "probability": "nan", "legitimate_at_or_above": 0}}, "prob"),
        ({"reject": None}, "reject"),
    ],
)
def test_hostile_thresholds_are_refused(changes: dict[str, Any], reason: str) -> None:
    good = thresholds().model_dump(mode="json")
    with pytest.raises(ValueError, match=reason):
        load(record(thresholds={**good, **changes}))


def with_forest() -> ModelArtefact:
    """A booster and a forest on (amount, signals_noisy_or, hour): a large amount is fraud."""
    return tests.model_artefacts.artefact("fraud-gbm", forest=True)


def test_a_forest_travels_in_the_record_and_its_version() -> None:
    model = with_forest()
    assert model.has_forest and "forest" in model.to_dict()
    again = ModelArtefact.from_bytes(model.to_bytes())
    assert again.has_forest and again.version == model.version
    assert again.to_bytes() == model.to_bytes()
    body = {key: value for key, value in model.to_dict().items() if key != "forest"}
    body["version"] = content_version(body)
    without = load(body)
    assert not without.has_forest and without.version != model.version
    row = [9500.0, 10.0, 3.0]
    assert without.probability(row) != model.probability(row)
    assert "forest" not in artefact().to_dict()  # none: left out, old versions hold


def test_the_margin_is_the_mean_of_the_booster_and_forest_log_odds() -> None:
    model = with_forest()
    record = model.record
    booster = lgb.Booster(model_str=record.booster)
    assert record.forest is not None
    forest = load_forest(record.forest, record.features)
    rows = np.asarray([[9500.0, 10.0, 3.0], [50.0, 90.0, 12.0], [50.0, 0.0, math.nan]])
    boosted = booster.predict(rows, raw_score=True)
    forested = log_odds(forest_probability(forest, rows))
    want = (boosted + forested) / 2
    assert np.allclose([model.margin(row.tolist()) for row in rows], want, rtol=0, atol=1e-12)
    assert model.probabilities(rows.tolist()) == [model.probability(r.tolist()) for r in rows]
    # Each model alone would answer otherwise: both count.
    assert not np.allclose(want, boosted) and not np.allclose(want, forested)


def test_with_a_forest_contributions_sum_to_the_margin() -> None:
    model = with_forest()
    for row in ([9500.0, 10.0, 3.0], [50.0, 90.0, 12.0], [50.0, 0.0, math.nan], [5.0, 1.0, 1.0]):
        values = model.contribution_values(row)
        assert len(values) == 4
        assert math.isclose(sum(values), model.margin(row), abs_tol=1e-9)
    top = model.contributions([9500.0, 10.0, 3.0], k=1)
    assert top[0][0] == "amount" and top[0][1] > 0


def test_with_a_forest_the_reasons_are_the_boosters_share(monkeypatch: pytest.MonkeyPatch) -> None:
    # The forest's SHAP values cost ~46 ms a row: the scorer's reasons never ask for them.
    model = with_forest()
    row = [9500.0, 10.0, 3.0]
    booster_half = (
        model._booster.predict(np.asarray([row]), pred_contrib=True, num_threads=1).ravel()[:-1] / 2
    )

    def refused(*args: object) -> None:
        raise AssertionError("the forest was explained")

    monkeypatch.setattr(artefact_module, "forest_contributions", refused)
    top = model.contributions(row, k=3)
    want = sorted(zip(model.features, booster_half, strict=True), key=lambda f: -abs(f[1]))
    assert top == [(name, value) for name, value in want[:3] if value != 0.0]


@pytest.mark.parametrize(
    ("forest", "reason"),
    [
        ("not a model", "not a LightGBM model text"),
        ("booster", "not a binary random forest"),
        ("other names", "feature names"),
    ],
)
def test_hostile_forests_are_refused(forest: str, reason: str) -> None:
    model = with_forest()
    text = {
        "not a model": "tree\nrubbish",
        "booster": model.record.booster,  # a boosted model is not a forest
        "other names": tests.model_artefacts.forest_of(("x", "y", "z")),
    }[forest]
    body = {**model.to_dict(), "forest": text}
    body["version"] = content_version(body)
    with pytest.raises(ValueError, match=reason):
        load(body)
