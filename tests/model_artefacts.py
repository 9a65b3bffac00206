"""Tiny model artefacts for tests: a LightGBM booster trained in a moment on synthetic
rows (and, if asked, a scikit-learn forest beside it), with a calibration that either
keeps it (Platt a=1, b=0) or pins its answer (a=0: the same probability for every row,
for tests of the arithmetic around it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import lightgbm as lgb
import numpy as np
from sklearn.ensemble import RandomForestClassifier

from riskstream.agents.model_artefact import ModelArtefact, ModelCard, PlattCalibration
from riskstream.agents.model_thresholds import DecisionThresholds
from riskstream.offline.forest_text import forest_text
from riskstream.streams.model_record import ModelMode, ModelRecord

FEATURES = ("amount", "signals_noisy_or", "hour")
CREATED = datetime(2026, 11, 1, tzinfo=UTC)


def synthetic(features: Sequence[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows where fraud is a large amount, more so with rule evidence."""
    rng = np.random.default_rng(seed)
    rows = rng.uniform(0, 1, size=(400, len(features)))
    rows[:, 0] *= 10_000  # amount
    rows[:, 1] *= 100  # the rules' noisy-OR
    labels = ((rows[:, 0] > 7_000) | (rows[:, 1] > 80)).astype(int)
    return rows, labels


def booster_text(features: Sequence[str] = FEATURES, seed: int = 7) -> str:
    """A booster of :func:`synthetic` rows."""
    rows, labels = synthetic(features, seed)
    data = lgb.Dataset(rows, labels, feature_name=list(features), free_raw_data=True)
    params = {"objective": "binary", "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5,
              "num_threads": 1, "seed": seed, "deterministic": True}  # fmt: skip
    return str(lgb.train(params, data, num_boost_round=12).model_to_string())


def forest_of(features: Sequence[str] = FEATURES, seed: int = 7) -> str:
    """A random forest of the same rows, as LightGBM text."""
    rows, labels = synthetic(features, seed)
    fitted = RandomForestClassifier(n_estimators=10, random_state=seed).fit(rows, labels)
    return forest_text(fitted, features)


_BOOSTERS: dict[tuple[tuple[str, ...], int], str] = {}
_FORESTS: dict[tuple[tuple[str, ...], int], str] = {}


def artefact(
    model_id: str = "m1",
    *,
    features: Sequence[str] = FEATURES,
    probability: float | None = None,
    seed: int = 7,
    thresholds: DecisionThresholds | None = None,
    forest: bool = False,
) -> ModelArtefact:
    """A model ``model_id``; with ``probability`` it answers that for every row; with
    ``thresholds`` its points go through them (else ``round(100 p)``); with ``forest``
    a random forest is averaged with its booster."""
    key = (tuple(features), seed)
    if key not in _BOOSTERS:
        _BOOSTERS[key] = booster_text(features, seed)
    if forest and key not in _FORESTS:
        _FORESTS[key] = forest_of(features, seed)
    if probability is None:
        calibration = PlattCalibration(a=1.0, b=0.0)
    else:
        calibration = PlattCalibration(a=0.0, b=math.log(probability / (1 - probability)))
    card = ModelCard(
        train_from=datetime(2026, 10, 1, tzinfo=UTC), train_to=datetime(2026, 10, 8, tzinfo=UTC),
        label_cutoff=datetime(2026, 10, 15, tzinfo=UTC), rows=400, positives=120,
        metrics={"auc": 0.9}, importances=[(features[0], 1.0)],
    )  # fmt: skip
    return ModelArtefact.build(
        model_id=model_id, created_at=CREATED, features=features,
        booster=_BOOSTERS[key], calibration=calibration, card=card, thresholds=thresholds,
        forest=_FORESTS[key] if forest else None,
    )  # fmt: skip


def record(model: ModelArtefact, mode: ModelMode) -> bytes:
    """Its record on ``risk.models``."""
    return ModelRecord(model_id=model.model_id, mode=mode, artefact=model.to_dict()).encode()
