"""A random forest beside the booster: read, scored and explained in log-odds.

The forest travels as LightGBM model text of boosting ``rf`` (``offline/forest_text``
writes it from a scikit-learn forest), each leaf its tree's class-1 probability.
LightGBM's raw score and ``pred_contrib`` of such a model are sums over the trees (its
own averaging applies only to its sigmoid output), so both are divided here by the
number of trees: the forest's probability, scikit-learn's ``predict_proba``.

The artefact's margin is the mean of the booster's log-odds and the forest's
(:func:`log_odds` of its probability, clipped: a leaf of one class says 0 or 1).
Contributions follow the same mean: the booster's SHAP values are log-odds already;
the forest's are in probability, and sum to ``p - p0`` (``p0`` its expected value), so
each is scaled by ``(logit(p) - logit(p0)) / (p - p0)``, the secant of the log-odds
over that step. The combined values then sum, with the bias, to the combined margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

# Probabilities are clipped to [CLIP, 1 - CLIP] before the log-odds: 0 and 1 have none,
# and a forest of 100 trees moves in steps of 0.01, far coarser than the clip.
CLIP = 1e-6
Matrix = np.ndarray[Any, np.dtype[np.float64]]


def log_odds(probability: Matrix) -> Matrix:
    """``log(p / (1 - p))`` of ``p`` clipped to ``[CLIP, 1 - CLIP]``."""
    p = np.clip(probability, CLIP, 1 - CLIP)
    return np.asarray(np.log(p) - np.log1p(-p), dtype=np.float64)


def load_forest(text: str, features: Sequence[str]) -> lgb.Booster:
    """The forest of ``text``, checked: a binary ``rf`` model of ``features``."""
    if not text.startswith("tree\n") or "end of trees" not in text:
        raise ValueError("forest: not a LightGBM model text")
    header = text.split("\nTree=", 1)[0]
    if "\nobjective=binary" not in header or "\naverage_output" not in header:
        raise ValueError("forest: not a binary random forest (objective=binary, rf)")
    try:
        forest = lgb.Booster(model_str=text)
        names, trees = forest.feature_name(), forest.num_trees()
    except Exception as error:  # LightGBMError, and anything the parser trips on
        raise ValueError(f"forest: LightGBM cannot read it: {str(error)[:200]}") from None
    if list(names) != list(features):
        raise ValueError("forest: its feature names differ from the artefact's features")
    if trees < 1:
        raise ValueError("forest: no trees")
    return forest


def forest_probability(forest: lgb.Booster, matrix: Matrix) -> Matrix:
    """The forest's class-1 probability of each row: the trees' mean leaf value."""
    total = np.asarray(forest.predict(matrix, raw_score=True, num_threads=1), dtype=np.float64)
    return total.ravel() / forest.num_trees()


def forest_contributions(forest: lgb.Booster, matrix: Matrix) -> Matrix:
    """SHAP values of the forest's probability, a row per row and the bias last: each row
    sums to :func:`forest_probability`."""
    out = np.asarray(forest.predict(matrix, pred_contrib=True, num_threads=1), dtype=np.float64)
    return out / forest.num_trees()


def in_log_odds(contributions: Matrix) -> Matrix:
    """Probability SHAP values (one row, the bias last) rescaled to log-odds: the bias
    becomes ``logit(p0)`` and the rest sum to ``logit(p) - logit(p0)`` (the module's
    text)."""
    base = float(contributions[-1])
    p = base + float(contributions[:-1].sum())
    low, high = log_odds(np.asarray([base, p]))
    step = p - base
    # No step: the derivative of the log-odds there, the secant's limit.
    clipped = min(max(p, CLIP), 1 - CLIP)
    scale = (high - low) / step if abs(step) > 1e-12 else 1.0 / (clipped * (1 - clipped))
    out = contributions * scale
    out[-1] = low
    return np.asarray(out, dtype=np.float64)


def averaged(booster_values: Matrix, forest_values: Matrix) -> Matrix:
    """The artefact's margin or contributions: the mean of the booster's and the
    forest's (both log-odds)."""
    return np.asarray((booster_values + forest_values) / 2, dtype=np.float64)
