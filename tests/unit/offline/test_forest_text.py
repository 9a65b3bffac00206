"""A scikit-learn forest served by LightGBM answers as scikit-learn does, bit for bit."""

from __future__ import annotations

from functools import cache

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from riskstream.agents.model_forest import (
    forest_contributions,
    forest_probability,
    load_forest,
)
from riskstream.offline.forest_text import float32_threshold, forest_text

NAMES = ("a", "b", "rounded", "sparse", "never_missing")


def rows(count: int, seed: int) -> np.ndarray:
    """Rows like our feature rows: NaN where a value is unknown, ties, long tails."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, len(NAMES)))
    x[:, 1] = np.exp(2 * x[:, 1])  # amounts: a long tail
    x[:, 2] = np.round(x[:, 2], 1)  # many ties
    known = x[:, :4]  # a view: unknowns, as feature_row writes them, in all but the last
    known[rng.random((count, 4)) < 0.15] = np.nan
    x[rng.random(count) < 0.6, 3] = np.nan
    return x


def labels(x: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    score = np.nan_to_num(x[:, 0], nan=1.0) + np.log(np.nan_to_num(x[:, 1], nan=1.0))
    score += np.isnan(x[:, 3]) * 0.5 + x[:, 4] + rng.normal(size=len(x))
    return (score > 2.0).astype(int)


@cache
def fitted() -> tuple[RandomForestClassifier, lgb.Booster]:
    x = rows(3000, 1)
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(x, labels(x, 2))
    return forest, load_forest(forest_text(forest, NAMES), NAMES)


def near_thresholds(forest: RandomForestClassifier, count: int, seed: int) -> np.ndarray:
    """Rows whose values sit on and a hair around the forest's own thresholds: float64
    values that round to either float32 neighbour of a threshold."""
    rng = np.random.default_rng(seed)
    out = rows(count, seed)
    for estimator in forest.estimators_:
        tree = estimator.tree_
        for node in np.flatnonzero((tree.children_left != -1) & np.isfinite(tree.threshold)):
            pick = rng.integers(0, count, size=3)
            t = tree.threshold[node]
            spread = abs(t) * rng.choice([-1e-7, -3e-8, 0.0, 3e-8, 1e-7], size=3)
            out[pick, tree.feature[node]] = t + spread
    return out


def test_the_forest_answers_as_scikit_learn_on_float32_rows() -> None:
    forest, served = fitted()
    x = np.vstack([rows(5000, 3), near_thresholds(forest, 5000, 4)])
    x[:200, 4] = np.nan  # missing where training never saw it missing
    want = forest.predict_proba(x.astype(np.float32))[:, 1]
    got = forest_probability(served, x)
    assert np.array_equal(got, want)
    # The float32 rows themselves too (the cast is what scikit-learn compares).
    assert np.array_equal(forest_probability(served, x.astype(np.float32).astype(np.float64)), want)


def test_thresholds_compare_float64_values_as_their_float32_rounding() -> None:
    rng = np.random.default_rng(5)
    lows = rng.normal(size=2000).astype(np.float32)
    highs = np.nextafter(lows, np.float32(np.inf))
    # scikit-learn's thresholds: midpoints of float32 neighbours, in float64.
    thresholds = lows.astype(np.float64) / 2 + highs.astype(np.float64) / 2
    for t, low, high in zip(thresholds, lows, highs, strict=True):
        limit = float32_threshold(float(t))
        probes = [float(low), float(high), float(t), np.nextafter(float(t), -np.inf),
                  np.nextafter(float(t), np.inf), float(low) / 2 + float(high) / 2]  # fmt: skip
        for x in probes:
            assert (x <= limit) == (np.float32(x) <= t), (t, x)
    # Where the plain comparison differs: a threshold on a float32 value (scikit-learn's
    # when the midpoint rounds onto a value), and a float64 just above it, which rounds
    # down onto it.
    t = float(lows[0])
    x = float(np.nextafter(t, np.inf))
    assert float(np.float32(x)) <= t and not x <= t
    assert x <= float32_threshold(t)


def test_a_threshold_of_infinity_sends_every_present_value_left() -> None:
    assert float32_threshold(np.inf) >= 1e300


def test_contributions_sum_to_the_probability() -> None:
    _, served = fitted()
    x = rows(300, 6)
    values = forest_contributions(served, x)
    assert values.shape == (300, len(NAMES) + 1)
    assert np.allclose(values.sum(axis=1), forest_probability(served, x), rtol=0, atol=1e-12)
    # The bias is the forest's expected value: the same for every row.
    assert np.ptp(values[:, -1]) < 1e-12


def test_a_tree_of_one_leaf_is_written_and_answers() -> None:
    x = rows(200, 7)
    y = labels(x, 8)
    forest = RandomForestClassifier(n_estimators=3, min_samples_split=10_000, random_state=0)
    forest.fit(x, y)
    served = load_forest(forest_text(forest, NAMES), NAMES)
    want = forest.predict_proba(x.astype(np.float32))[:, 1]
    assert np.array_equal(forest_probability(served, x), want)


def test_what_is_not_a_binary_forest_of_these_features_is_refused() -> None:
    x = rows(200, 9)
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(x, labels(x, 1) + 1)
    with pytest.raises(ValueError, match="classes"):
        forest_text(forest, NAMES)
    forest, _ = fitted()
    with pytest.raises(ValueError, match="names"):
        forest_text(forest, NAMES[:2])
