"""Ranking metrics, checked against values computed by hand (and scikit-learn's)."""

from __future__ import annotations

import pytest

from riskstream.offline.metrics import average_precision, pr_curve, precision_at_k, ratio, roc_auc


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


def test_precision_at_k_ranks_accounts_per_day_by_their_best_score() -> None:
    rows = [
        # day 1: a (fraud, best 90), b (80), c (fraud, 10), d (0)
        (1, "a", 20.0, False), (1, "a", 90.0, True), (1, "b", 80.0, False),
        (1, "c", 10.0, True), (1, "d", 0.0, False),
        # day 2: b is fraud now and ranks first; a is clean that day
        (2, "b", 70.0, True), (2, "a", 5.0, False),
    ]  # fmt: skip
    # k=2: day 1 takes a, b (1 of 2); day 2 takes b, a (1 of 2).
    assert precision_at_k(rows, 2) == pytest.approx(0.5)
    # k=1: day 1 a (fraud), day 2 b (fraud).
    assert precision_at_k(rows, 1) == 1.0
    # k=3 on day 1: a, b, c (2 of 3); day 2 has only 2 accounts: both taken (1 of 2).
    assert precision_at_k(rows, 3) == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert precision_at_k([], 5) is None
    with pytest.raises(ValueError, match="k must"):
        precision_at_k(rows, 0)


def test_precision_at_k_takes_a_tie_at_the_cut_off_in_part() -> None:
    # Four accounts tied at 0, one of them fraud, and one scored 50 (clean): k=3 takes the
    # 50 and two of the four tied, each worth half: expected 0.5 fraud of 3.
    rows = [(0, "top", 50.0, False), *((0, name, 0.0, name == "x") for name in "wxyz")]
    assert precision_at_k(rows, 3) == pytest.approx(0.5 / 3)
    # A scorer that scores everything 0 is credited with the base rate, not an order.
    flat = [(0, str(n), 0.0, n < 10) for n in range(100)]
    assert precision_at_k(flat, 20) == pytest.approx(0.1)
