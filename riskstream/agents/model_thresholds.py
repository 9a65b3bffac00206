"""A learned model's decision thresholds, chosen by friction budget, and the points map
that puts them where the policy's thresholds are.

A calibrated probability of fraud is small for almost every transaction (fraud is ~1%
of traffic), so ``round(100 * p)`` against fixed thresholds (review 40, challenge 60,
reject 80) leaves nearly every decision to the rules. Instead, ``riskstream model train``
chooses, on its validation tail (data the booster never trained on), the probability at
which each decision spends its **friction budget**: the smallest probability ``p`` among
the legitimate tail rows' own such that the share of legitimate tail rows with
probability ``>= p`` is at most the budget (:func:`choose_thresholds`). The artefact
keeps them (:class:`DecisionThresholds`), and the scorer maps a probability to points
through them (:func:`model_points`): piecewise linear through ``(p_review, review_at)``,
``(p_challenge, challenge_at)``, ``(p_reject, reject_at)`` and ``(1, 100)``, so that
``policy.decide(points)`` is review exactly from ``p_review`` on, and so on; below review,
from the tail's lowest legitimate probability (``floor``, 0 points) to ``p_review`` by
log-odds, where nearly all traffic lies (linear from ``(0, 0)`` gave it all 0 points).
The map is non-decreasing: the model's ranking (AUC, AP) is its own, but for the ties
that whole points make.

Degenerate cases, each with one answer:
- ties: the legitimate rows sharing the probability at a candidate all count against
  the budget, so the threshold is the next distinct legitimate value above them;
- every legitimate value leaves more than the budget at or above it (the tail holds
  fewer than ``1 / budget`` legitimate rows, or a tie at the top): the threshold lies
  just above the highest legitimate probability, the strictest reading of the budget;
  when that is above 1 (a legitimate row at probability 1), the model alone never
  reaches the decision (``probability`` None; the map stays below its points);
- out-of-order thresholds (a milder decision's above a stricter one's: budgets given out
  of order, or a hand-made record) and out-of-order policy points: each knot is raised
  to the one before it, so a stricter decision never comes at a lower probability; equal
  knots jump straight to the strictest of them;
- no legitimate row at all: no thresholds (the scorer then uses ``round(100 * p)``, as
  for artefacts made before thresholds existed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskstream.streams.settings import Settings

Share = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]

# Business defaults, not fitted (docs/scoring.md, "A model's decision thresholds"), kept
# once: in the settings (``RISKSTREAM_SCORE_*_BUDGET``).
_SETTINGS = Settings.model_fields


class FrictionBudgets(BaseModel):
    """The share of legitimate transactions allowed at or above each decision (a
    challenge's budget counts the rejects too: they are at least a challenge)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    review: Share = _SETTINGS["score_review_budget"].default
    challenge: Share = _SETTINGS["score_challenge_budget"].default
    reject: Share = _SETTINGS["score_reject_budget"].default

    @classmethod
    def of(
        cls,
        settings: Settings,
        review: float | None = None,
        challenge: float | None = None,
        reject: float | None = None,
    ) -> FrictionBudgets:
        """The budgets configured through ``RISKSTREAM_SCORE_*_BUDGET``, each one given
        here instead (a command's option)."""
        return cls(
            review=settings.score_review_budget if review is None else review,
            challenge=settings.score_challenge_budget if challenge is None else challenge,
            reject=settings.score_reject_budget if reject is None else reject,
        )

    @model_validator(mode="after")
    def _ordered(self) -> FrictionBudgets:
        if not self.review >= self.challenge >= self.reject:
            raise ValueError("budgets shrink as the decision grows: review >= challenge >= reject")
        return self


class ThresholdChoice(BaseModel):
    """One decision's threshold and what it spent on the tail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget: Share
    # None: no probability up to 1 keeps the budget; the model alone never decides it.
    probability: Probability | None
    # Legitimate tail rows at or above ``probability`` (0 when None).
    legitimate_at_or_above: Annotated[int, Field(ge=0)]


class DecisionThresholds(BaseModel):
    """The probabilities at which a model's review, challenge and reject begin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    legitimate_rows: Annotated[int, Field(ge=1)]  # in the validation tail
    review: ThresholdChoice
    challenge: ThresholdChoice
    reject: ThresholdChoice
    # The lowest legitimate probability of the tail: 0 points. None in records made
    # before it (their first segment is linear from p = 0).
    floor: Probability | None = None

    def choices(self) -> tuple[ThresholdChoice, ThresholdChoice, ThresholdChoice]:
        return self.review, self.challenge, self.reject


def choose_thresholds(
    legitimate: Sequence[float], budgets: FrictionBudgets
) -> DecisionThresholds | None:
    """Each decision's threshold from the legitimate rows' probabilities (see the
    module's text); None without legitimate rows."""
    values = sorted((float(p) for p in legitimate), reverse=True)
    if not values:
        return None
    if not all(0.0 <= p <= 1.0 for p in values):  # NaN fails both
        raise ValueError("probabilities lie in [0, 1]")
    return DecisionThresholds(
        legitimate_rows=len(values),
        floor=values[-1],
        review=_choice(values, budgets.review),
        challenge=_choice(values, budgets.challenge),
        reject=_choice(values, budgets.reject),
    )


def _choice(descending: list[float], budget: float) -> ThresholdChoice:
    """The smallest legitimate value whose rows at or above it fit the budget."""
    allowed = math.floor(budget * len(descending) + 1e-9)  # 0.3% of 1,000 rows: 3, not 2
    index = 0  # rows strictly above descending[index]
    chosen: float | None = None
    at_or_above = 0
    while index < len(descending):
        value = descending[index]
        end = index
        while end < len(descending) and descending[end] == value:
            end += 1
        if end > allowed:  # every row from index to end ties at value: all count
            break
        chosen, at_or_above, index = value, end, end
    if chosen is None:
        above = math.nextafter(descending[0], math.inf)
        chosen = above if above <= 1.0 else None
    return ThresholdChoice(budget=budget, probability=chosen, legitimate_at_or_above=at_or_above)


class PointThresholds(Protocol):
    """A decision policy's points (``agents/scoring.DecisionPolicy``)."""

    @property
    def review_at(self) -> int: ...
    @property
    def challenge_at(self) -> int: ...
    @property
    def reject_at(self) -> int: ...


def model_points(
    probability: float, thresholds: DecisionThresholds | None, policy: PointThresholds
) -> int:
    """The 0-100 points of a model's probability: through ``thresholds`` (see the
    module's text), or ``round(100 * p)`` without them (artefacts made before them)."""
    if thresholds is None:
        return round(100 * probability)
    knots = _knots(thresholds, policy)
    # The last knot at or below the probability (of equal ones, the strictest).
    at = 0
    for number, (knot_p, _) in enumerate(knots):
        if knot_p <= probability:
            at = number
    low_p, low_points = knots[at]
    if at + 1 == len(knots):
        return low_points
    high_p, high_points = knots[at + 1]
    if high_points == low_points:
        return low_points
    floor = thresholds.floor
    if at == 0 and floor is not None and 0.0 < floor < high_p < 1.0:
        step = _log_odds_step(probability, floor, high_p, high_points)
        return max(0, min(step, high_points - 1))
    step = math.floor((probability - low_p) / (high_p - low_p) * (high_points - low_points))
    # Below the next knot the points stay below its own, whatever the rounding: a decision
    # begins exactly at its threshold.
    return low_points + max(0, min(step, high_points - low_points - 1))


def _log_odds(p: float) -> float:
    return math.log(p / (1.0 - p))


def _log_odds_step(probability: float, floor: float, high_p: float, high_points: int) -> int:
    """Points below the first decision, spread by log-odds from the floor: almost every
    transaction's probability is far below the review threshold, and a linear map gave
    nearly all of them 0 points, one tie that hid the model's ranking from the score."""
    if probability <= floor:
        return 0
    low, high = _log_odds(floor), _log_odds(high_p)
    return math.floor((_log_odds(probability) - low) / (high - low) * high_points)


def _knots(thresholds: DecisionThresholds, policy: PointThresholds) -> list[tuple[float, int]]:
    """``(probability, points)`` knots, both non-decreasing, from (0, 0) to (1, 100) or
    to just below the first decision the model cannot reach."""
    knots: list[tuple[float, int]] = [(0.0, 0)]
    ats = (policy.review_at, policy.challenge_at, policy.reject_at)
    for choice, at in zip(thresholds.choices(), ats, strict=True):
        last_p, last_points = knots[-1]
        points = max(at, last_points)
        if choice.probability is None:
            # Unreachable: up to p = 1 the points approach this decision's, never reach it.
            knots.append((1.0, max(points - 1, last_points)))
            return knots
        knots.append((max(choice.probability, last_p), points))
    last_p, last_points = knots[-1]
    knots.append((max(1.0, last_p), max(100, last_points)))
    return knots
