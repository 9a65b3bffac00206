"""Ranking metrics, checked against values computed by hand (and scikit-learn's)."""

from __future__ import annotations

import pytest

from riskstream.offline.metrics import average_precision, pr_curve, ratio, roc_auc


def test_roc_auc_counts_pairs_ranked_right_and_ties_as_half() -> None:
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert roc_auc([1, 2, 3], [False, True, True]) == 1.0
    assert roc_auc([3, 2, 1], [False, True, True]) == 0.0
    assert roc_auc([5, 5, 5, 5], [False, True, False, True]) == 0.5
    assert roc_auc([1, 2], [True, True]) is None


def test_average_precision_and_curve() -> None:
    scores, labels = [0.1, 0.4, 0.35, 0.8], [False, False, True, True]
    assert average_precision(scores, labels) == pytest.approx(0.8333333)
    curve = pr_curve(scores, labels)
    assert [(p.threshold, p.precision, p.recall) for p in curve] == [
        (0.8, 1.0, 0.5),
        (0.4, 0.5, 0.5),
        (0.35, pytest.approx(2 / 3), 1.0),
        (0.1, 0.5, 1.0),
    ]
    # Ties form one threshold: all of them are taken at once.
    tied = pr_curve([60, 60, 0], [True, False, True])
    assert [(p.precision, p.recall) for p in tied] == [(0.5, 0.5), (pytest.approx(2 / 3), 1.0)]
    assert average_precision([1, 2], [False, False]) is None
    assert ratio(1, 0) is None and ratio(1, 4) == 0.25
