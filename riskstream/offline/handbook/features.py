"""The handbook's baseline features (chapter 3, "Baseline feature transformation").

Per transaction, 15 numbers:

- the amount; whether it falls on a weekend; whether at night (hour <= 6);
- the customer's number of transactions and their mean amount over the last 1, 7 and 30
  days, this transaction included (window ``(t - w, t]``);
- the terminal's number of transactions and its risk (the share of them that were
  fraud) over 1, 7 and 30 days, taken ``delay`` days back (window ``(t - delay - w,
  t - delay]``): a transaction's label is known ``delay`` days after it, so nothing
  more recent may count. Labels come from ``known``, the fraud flags as feedback tells
  them: a verdict due after ``t`` never reaches a feature at ``t``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from riskstream.offline.handbook.generator import DAY_S, Transactions

WINDOWS = (1, 7, 30)
DELAY_DAYS = 7
NIGHT_LAST_HOUR = 6

FEATURES: tuple[str, ...] = (
    "amount",
    "weekend",
    "night",
    *(f"customer_{what}_{w}d" for w in WINDOWS for what in ("count", "avg_amount")),
    *(f"terminal_{what}_{w}d" for w in WINDOWS for what in ("count", "risk")),
)


def baseline_features(
    tx: Transactions,
    start_weekday: int,
    delay_days: int = DELAY_DAYS,
    known_fraud: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """The (transactions, 15) matrix, columns as :data:`FEATURES`. ``start_weekday``:
    the weekday of day 0 (Monday 0). ``known_fraud``: the fraud flags terminal risk may
    use (default: the ground truth, known ``delay_days`` after each transaction)."""
    known = tx.fraud if known_fraud is None else known_fraud
    columns: list[NDArray[np.float64]] = [
        tx.amount.astype(np.float64),
        (((tx.day + start_weekday) % 7) >= 5).astype(np.float64),
        (((tx.seconds % DAY_S) // 3600) <= NIGHT_LAST_HOUR).astype(np.float64),
    ]
    for window in WINDOWS:
        count, mean = _customer_window(tx, window * DAY_S)
        columns += [count, mean]
    for window in WINDOWS:
        count, risk = _terminal_window(tx, known, window * DAY_S, delay_days * DAY_S)
        columns += [count, risk]
    return np.column_stack(columns)


def _grouped(
    keys: NDArray[np.int64], seconds: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The order that sorts by key then time, and each row's sortable key-time."""
    span = int(seconds.max()) + 100 * DAY_S if len(seconds) else 1
    combined = keys * span + seconds
    order = np.argsort(combined, kind="stable")
    return order, combined[order]


def _customer_window(
    tx: Transactions, width: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    order, combined = _grouped(tx.customer, tx.seconds)
    position = np.arange(len(order))
    low = np.searchsorted(combined, combined - width, side="right")
    count = (position - low + 1).astype(np.float64)
    sums = np.concatenate([[0.0], np.cumsum(tx.amount[order])])
    mean = (sums[position + 1] - sums[low]) / count
    return _unsort(order, count), _unsort(order, mean)


def _terminal_window(
    tx: Transactions, known: NDArray[np.bool_], width: int, delay: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    order, combined = _grouped(tx.terminal, tx.seconds)
    low = np.searchsorted(combined, combined - delay - width, side="right")
    high = np.searchsorted(combined, combined - delay, side="right")
    count = (high - low).astype(np.float64)
    frauds = np.concatenate([[0], np.cumsum(known[order].astype(np.int64))])
    fraud = (frauds[high] - frauds[low]).astype(np.float64)
    risk = np.divide(fraud, count, out=np.zeros_like(count), where=count > 0)
    return _unsort(order, count), _unsort(order, risk)


def _unsort(order: NDArray[np.int64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.empty_like(values)
    out[order] = values
    return out
