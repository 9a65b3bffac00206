"""The handbook's baseline classifiers, re-run on our data (chapter 3, "Baseline fraud
detection system"): the 15 baseline features standardised on the training set, then
scikit-learn's logistic regression, a decision tree of depth two, one of unlimited
depth, a random forest, and XGBoost, with the hyper-parameters the handbook states
(random_state 0, otherwise the libraries' defaults)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Cores for the forest and XGBoost; the handbook uses all (-1), which changes no result.
JOBS = 2


def classifiers() -> dict[str, Callable[[], Any]]:
    """Name -> a fresh unfitted classifier. Imported here: scikit-learn and xgboost
    load in seconds and only this command needs them."""
    from sklearn.ensemble import RandomForestClassifier  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.tree import DecisionTreeClassifier  # noqa: PLC0415

    made: dict[str, Callable[[], Any]] = {
        "logistic regression": lambda: LogisticRegression(random_state=0),
        "decision tree (depth 2)": lambda: DecisionTreeClassifier(max_depth=2, random_state=0),
        "decision tree (unlimited)": lambda: DecisionTreeClassifier(random_state=0),
        "random forest": lambda: RandomForestClassifier(random_state=0, n_jobs=JOBS),
    }
    try:
        from xgboost import XGBClassifier  # noqa: PLC0415
    except ImportError:  # a development dependency (xgboost-cpu)
        return made
    made["XGBoost"] = lambda: XGBClassifier(random_state=0, n_jobs=JOBS)
    return made


def fit_and_score(
    make: Callable[[], Any],
    train_x: NDArray[np.float64],
    train_y: NDArray[np.bool_],
    test_x: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The fraud probability of each test row from a model fitted on the training rows
    (features standardised with the training set's mean and deviation)."""
    mean = train_x.mean(axis=0)
    spread = train_x.std(axis=0)
    spread[spread == 0] = 1.0
    model = make()
    model.fit((train_x - mean) / spread, train_y.astype(np.int64))
    scores: NDArray[np.float64] = model.predict_proba((test_x - mean) / spread)[:, 1]
    return scores.astype(np.float64)
