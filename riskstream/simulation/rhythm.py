"""The day/night rhythm: when, in their own time, customers open the wallet.

Sessions are a non-homogeneous Poisson process whose intensity follows the customer's
local hour: almost nothing between 2 and 5 in the morning, a rise with the commute, a
lunch peak, and the evening peak of the day. Times are drawn exactly by inverting the
cumulative intensity (piecewise constant per hour), so the cost is one step per session.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from functools import lru_cache
from itertools import pairwise

from riskstream.simulation.geography import HOUR_MS

DAY_MS = 24 * HOUR_MS

# Relative intensity by local hour, 0-23.
HOURLY: tuple[float, ...] = (
    0.30, 0.15, 0.07, 0.04, 0.04, 0.09, 0.30, 0.65, 0.95, 1.00, 1.05, 1.30,
    1.80, 1.55, 1.05, 0.95, 0.95, 1.10, 1.45, 1.80, 1.95, 1.70, 1.20, 0.65,
)  # fmt: skip
_MEAN = sum(HOURLY) / len(HOURLY)


def intensity(local_hour: int) -> float:
    """Sessions per hour at ``local_hour`` for a customer with one session a day."""
    return HOURLY[local_hour] / _MEAN / 24.0


@lru_cache(maxsize=64)
def _cumulative(
    start_ms: int, end_ms: int, utc_offset: int
) -> tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...]]:
    """Boundaries (every UTC hour in between), the cumulative intensity at each, and the
    intensity per millisecond after each; for a customer with one session a day."""
    bounds = [start_ms]
    moment = (start_ms // HOUR_MS + 1) * HOUR_MS
    while moment < end_ms:
        bounds.append(moment)
        moment += HOUR_MS
    bounds.append(end_ms)
    totals = [0.0]
    slopes = []
    for left, right in pairwise(bounds):
        slope = intensity((left // HOUR_MS + utc_offset) % 24) / HOUR_MS
        slopes.append(slope)
        totals.append(totals[-1] + slope * (right - left))
    return tuple(bounds), tuple(totals), tuple(slopes)


def session_times(
    rng: random.Random, per_day: float, start_ms: int, end_ms: int, utc_offset: int
) -> list[int]:
    """Session starts in [start_ms, end_ms), ascending, ``per_day`` on an average day."""
    if per_day <= 0 or end_ms <= start_ms:
        return []
    bounds, totals, slopes = _cumulative(start_ms, end_ms, utc_offset)
    limit = totals[-1]
    times: list[int] = []
    position = rng.expovariate(per_day)
    while position < limit:
        segment = bisect_right(totals, position) - 1
        times.append(bounds[segment] + int((position - totals[segment]) / slopes[segment]))
        position += rng.expovariate(per_day)
    return times
