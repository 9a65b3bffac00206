"""A model's decision thresholds chosen by friction budget, and the points map through
them (``agents/model_thresholds.py``)."""

from __future__ import annotations

import itertools
import math

import pytest
from pydantic import ValidationError

from riskstream.agents.model_thresholds import (
    DecisionThresholds,
    FrictionBudgets,
    ThresholdChoice,
    choose_thresholds,
    model_points,
)
from riskstream.agents.scoring import DecisionPolicy
from riskstream.streams.settings import Settings

POLICY = DecisionPolicy()  # 40 / 60 / 80
BUDGETS = FrictionBudgets(review=0.015, challenge=0.003, reject=0.001)


def tail() -> list[float]:
    """1,000 legitimate rows: a few high ones (two tied at 0.5), then a low mass."""
    top = [0.9, 0.7, 0.5, 0.5, 0.3, 0.3, 0.3] + [0.2] * 10 + [0.1] * 20
    return top + [0.001] * (1000 - len(top))


def thresholds(
    review: float | None,
    challenge: float | None,
    reject: float | None,
    floor: float | None = None,
) -> DecisionThresholds:
    def choice(p: float | None) -> ThresholdChoice:
        return ThresholdChoice(budget=0.01, probability=p, legitimate_at_or_above=0)

    return DecisionThresholds(
        legitimate_rows=1000, review=choice(review), challenge=choice(challenge),
        reject=choice(reject), floor=floor,
    )  # fmt: skip


def test_each_threshold_is_the_smallest_legitimate_value_within_its_budget() -> None:
    chosen = choose_thresholds(tail(), BUDGETS)
    assert chosen is not None and chosen.legitimate_rows == 1000
    # reject: 1 row allowed; 0.9 leaves 1 at or above it, 0.7 would leave 2.
    assert (chosen.reject.probability, chosen.reject.legitimate_at_or_above) == (0.9, 1)
    # challenge: 3 allowed; 0.7 leaves 2; the two rows tied at 0.5 both count (4 > 3).
    assert (chosen.challenge.probability, chosen.challenge.legitimate_at_or_above) == (0.7, 2)
    # review: 15 allowed; 0.3 leaves 7, 0.2 would leave 17.
    assert (chosen.review.probability, chosen.review.legitimate_at_or_above) == (0.3, 7)
    assert (chosen.review.budget, chosen.challenge.budget, chosen.reject.budget) == (
        0.015, 0.003, 0.001,
    )  # fmt: skip


def test_the_floor_is_the_lowest_legitimate_probability() -> None:
    chosen = choose_thresholds(tail(), BUDGETS)
    assert chosen is not None and chosen.floor == 0.001


def test_below_review_points_follow_the_log_odds_from_the_floor() -> None:
    """Most probabilities are far below review: spread by log-odds, 0.0001 and 0.001 no
    longer tie at 0 points as a linear map from p = 0 would have them."""
    knots = thresholds(0.1, 0.3, 0.6, floor=0.0001)
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    span = logit(0.1) - logit(0.0001)
    assert model_points(0.00005, knots, POLICY) == 0  # below the floor
    assert model_points(0.0001, knots, POLICY) == 0
    assert model_points(0.001, knots, POLICY) == math.floor(
        40 * (logit(0.001) - logit(0.0001)) / span
    )
    assert model_points(0.001, knots, POLICY) == 13
    assert model_points(0.01, knots, POLICY) == 26
    assert model_points(math.nextafter(0.1, 0.0), knots, POLICY) == 39
    assert model_points(0.1, knots, POLICY) == 40  # review begins at its threshold
    assert model_points(0.2, knots, POLICY) == 50  # linear above review, as before
    linear = thresholds(0.1, 0.3, 0.6)  # a record made before the floor
    assert model_points(0.001, linear, POLICY) == 0


def test_the_order_of_the_rows_does_not_matter() -> None:
    assert choose_thresholds(list(reversed(tail())), BUDGETS) == choose_thresholds(tail(), BUDGETS)


def test_too_few_legitimate_rows_put_the_threshold_just_above_the_highest() -> None:
    rows = [0.4, 0.2] + [0.01] * 98  # 100 rows: 0.3% and 0.1% allow no row at all
    chosen = choose_thresholds(rows, BUDGETS)
    assert chosen is not None
    above = math.nextafter(0.4, math.inf)
    assert chosen.challenge.probability == chosen.reject.probability == above
    assert chosen.challenge.legitimate_at_or_above == 0
    assert chosen.review.probability == 0.4  # 1.5% of 100: one row allowed
    assert model_points(0.4, chosen, POLICY) == 40
    assert POLICY.decide(model_points(above, chosen, POLICY)) == "reject"


def test_a_tie_at_the_top_beyond_the_budget_lifts_the_threshold_above_it() -> None:
    chosen = choose_thresholds([0.6] * 20 + [0.05] * 980, BUDGETS)
    assert chosen is not None
    assert chosen.review.probability == math.nextafter(0.6, math.inf)
    assert chosen.review.legitimate_at_or_above == 0


def test_a_legitimate_row_at_one_makes_the_decision_unreachable() -> None:
    chosen = choose_thresholds([1.0, 1.0] + [0.02] * 998, BUDGETS)
    assert chosen is not None
    assert chosen.reject.probability is None  # 1 allowed, 2 at 1.0
    assert chosen.challenge.probability == chosen.review.probability == 1.0
    assert model_points(1.0, chosen, POLICY) == 79  # challenge, never reject
    assert model_points(0.999, chosen, POLICY) == 39


def test_no_legitimate_row_means_no_thresholds_and_today_s_points() -> None:
    assert choose_thresholds([], BUDGETS) is None
    assert [model_points(p, None, POLICY) for p in (0.0, 0.004, 0.005, 0.394, 0.6, 1.0)] == [
        0, 0, 0, 39, 60, 100,
    ]  # fmt: skip


def test_probabilities_outside_zero_one_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        choose_thresholds([0.1, math.nan], BUDGETS)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        choose_thresholds([1.5], BUDGETS)


def test_the_map_passes_through_its_knots_and_decides_exactly_at_them() -> None:
    knots = thresholds(0.02, 0.05, 0.2)
    assert model_points(0.0, knots, POLICY) == 0
    assert model_points(0.01, knots, POLICY) == 20
    assert model_points(0.02, knots, POLICY) == 40
    assert model_points(0.05, knots, POLICY) == 60
    assert model_points(0.2, knots, POLICY) == 80
    assert model_points(0.7, knots, POLICY) == 92  # 80 + 20 * 0.5 / 0.8
    assert model_points(1.0, knots, POLICY) == 100
    for knot, (below, at) in {0.02: ("accept", "review"), 0.05: ("review", "challenge"),
                              0.2: ("challenge", "reject")}.items():  # fmt: skip
        assert POLICY.decide(model_points(math.nextafter(knot, 0.0), knots, POLICY)) == below
        assert POLICY.decide(model_points(knot, knots, POLICY)) == at


@pytest.mark.parametrize(
    "knots",
    [
        thresholds(0.02, 0.05, 0.2),
        thresholds(0.0, 0.0, 0.3),  # everything reviewed and challenged
        thresholds(0.05, 0.05, 0.05),  # equal knots
        thresholds(0.3, 0.1, 0.2),  # out of order
        thresholds(0.01, 0.9, None),  # reject unreachable
        thresholds(0.5, 1.0, 1.0),
        thresholds(0.02, 0.05, 0.2, floor=1e-6),
        thresholds(0.02, 0.05, 0.2, floor=0.02),  # floor at review: linear
        thresholds(0.0, 0.0, 0.3, floor=0.0),
    ],
)
def test_the_map_never_decreases_and_stays_within_0_100(knots: DecisionThresholds) -> None:
    grid = sorted({i / 2000 for i in range(2001)} | {0.05, 0.1, 0.2, 0.3, 0.9})
    grid += [math.nextafter(p, 0.0) for p in (0.05, 0.1, 0.2, 0.3, 0.9, 1.0)]
    grid.sort()
    for policy in (POLICY, DecisionPolicy(review_at=70, challenge_at=60, reject_at=100)):
        points = [model_points(p, knots, policy) for p in grid]
        assert all(0 <= value <= 100 for value in points)
        assert all(b >= a for a, b in itertools.pairwise(points))


def test_equal_knots_jump_to_the_strictest_decision() -> None:
    knots = thresholds(0.05, 0.05, 0.3)
    assert model_points(0.05, knots, POLICY) == 60
    assert model_points(math.nextafter(0.05, 0.0), knots, POLICY) == 39


def test_out_of_order_knots_raise_a_stricter_decision_to_the_milder_one_s_threshold() -> None:
    knots = thresholds(0.3, 0.1, 0.2)  # challenge below review, reject below review
    assert POLICY.decide(model_points(0.15, knots, POLICY)) == "accept"
    assert POLICY.decide(model_points(0.25, knots, POLICY)) == "accept"
    assert model_points(0.3, knots, POLICY) == 80  # review, challenge and reject at once


def test_budgets_come_from_the_settings_and_shrink_with_the_decision() -> None:
    assert FrictionBudgets() == FrictionBudgets.of(Settings())
    assert FrictionBudgets() == FrictionBudgets(review=0.015, challenge=0.003, reject=0.001)
    custom = Settings(score_review_budget=0.02, score_challenge_budget=0.004)
    assert FrictionBudgets.of(custom).challenge == 0.004
    with pytest.raises(ValidationError, match="shrink"):
        FrictionBudgets(review=0.01, challenge=0.02, reject=0.001)
    with pytest.raises(ValidationError):
        FrictionBudgets(reject=0.0)
