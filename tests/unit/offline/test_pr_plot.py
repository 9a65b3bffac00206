"""The precision-recall plot is drawn as average precision is computed: the area under
the drawn staircase is the AP, so the candidate with the higher AP has the larger area."""

from __future__ import annotations

import random

import pytest

from riskstream.offline.metrics import average_precision, pr_curve
from riskstream.offline.plots import pr_steps


def area(xs: list[float], ys: list[float]) -> float:
    pairs = zip(xs, xs[1:], ys, ys[1:], strict=False)
    return sum((x1 - x0) * (y0 + y1) / 2 for x0, x1, y0, y1 in pairs)


@pytest.mark.parametrize("seed", range(20))
def test_the_area_under_the_drawn_curve_is_the_average_precision(seed: int) -> None:
    generator = random.Random(seed)
    labels = [generator.random() < 0.2 for _ in range(200)]
    # Coarse scores, so thresholds tie as a rule engine's do.
    scores = [round(generator.random() * 5 + 3 * label * generator.random()) for label in labels]
    if not any(labels):
        labels[0] = True
    xs, ys = pr_steps(pr_curve(scores, labels))
    assert area(xs, ys) == pytest.approx(average_precision(scores, labels))


def test_a_precision_holds_up_to_its_own_recall_not_beyond() -> None:
    # The top score catches 1 of 2 frauds at precision 1; the next threshold takes all
    # four at precision 0.5: precision 1 holds over recall 0..0.5, then 0.5 over 0.5..1.
    xs, ys = pr_steps(pr_curve([9, 1, 1, 1], [True, True, False, False]))
    assert list(zip(xs, ys, strict=True)) == [(0.0, 1.0), (0.5, 1.0), (0.5, 0.5), (1.0, 0.5)]
