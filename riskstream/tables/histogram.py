"""A log-binned histogram of amounts: bounded, mergeable by adding counts, and quantiles
within a stated relative error.

Bin ``k`` holds the amounts in ``[GROWTH**k, GROWTH**(k+1))``; a quantile is answered by
the geometric middle of the bin that holds the order statistic, so it is within
``RELATIVE_ERROR`` (about 1%) of that order statistic whatever the amounts are. Amounts
from 1e-8 to 1e16 need fewer than 2,800 bins, and an account's usually fill a few dozen.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

GROWTH = 1.02
_LOG_GROWTH = math.log(GROWTH)
# |middle / x - 1| for any x in the bin, at worst at either edge.
RELATIVE_ERROR = math.sqrt(GROWTH) - 1

Histogram = dict[int, int]
# Bins of amounts from 1e-8 to 1e16 lie within +-1,900; a state naming a bin beyond this
# is refused (its middle would overflow a float).
MAX_BIN = 4_000


def bin_of(amount: float) -> int:
    """The bin of a positive amount."""
    return math.floor(math.log(amount) / _LOG_GROWTH)


def middle(bin_index: int) -> float:
    """The value a quantile in ``bin_index`` is answered with."""
    return float(GROWTH ** (bin_index + 0.5))


def add(histogram: Histogram, amount: float, count: int = 1) -> None:
    key = bin_of(amount)
    histogram[key] = histogram.get(key, 0) + count


def merged(histograms: Iterable[Mapping[int, int]]) -> Histogram:
    total: Histogram = {}
    for histogram in histograms:
        for key, count in histogram.items():
            total[key] = total.get(key, 0) + count
    return total


def quantiles(histogram: Mapping[int, int], qs: Iterable[float]) -> list[float | None]:
    """The ``q``-quantiles (0 < q <= 1) as numpy's ``method="inverted_cdf"`` defines them
    (the smallest order statistic with at least ``q * n`` values at or below it), each
    within ``RELATIVE_ERROR``; None for an empty histogram."""
    wanted = list(qs)
    n = sum(histogram.values())
    if n == 0:
        return [None for _ in wanted]
    # Rank of each order statistic, from 1; a float q * n a hair above an integer
    # (0.95 * 100 = 95.00000000000001) must not skip to the next one.
    ranks = sorted((max(1, math.ceil(round(q * n, 9))), place) for place, q in enumerate(wanted))
    answers: list[float | None] = [None] * len(wanted)
    pending = iter(ranks)
    rank, place = next(pending)
    seen = 0
    for key in sorted(histogram):
        seen += histogram[key]
        while seen >= rank:
            answers[place] = middle(key)
            following = next(pending, None)
            if following is None:
                return answers
            rank, place = following
    return answers
