"""The handbook's protocol (chapter 3, "Baseline fraud detection system"; chapter 4,
"Precision top-k metrics"; chapter 5, "Validation strategies").

- Training: ``train_days`` (7) days from the training start; their labels are all
  known once the delay has passed, which is when the test week begins.
- Delay: the next ``delay_days`` (7) days are neither trained on nor tested: their
  labels are not known yet when the model is put to work.
- Test: the ``test_days`` (7) days after the delay. A card found compromised is blocked,
  so it is not scored again: the test set leaves out, on each test day, the
  transactions of customers with a fraud in the training week or in the days of the
  delay period known by then (for test day ``k``, up to day ``train_end + k - 1``).
- Card precision@k: each test day, every card takes its highest score of the day; of
  the ``k`` highest cards, the share with a fraud that day. A card counted as detected
  on one test day is left out of the following ones. The figure is the mean over days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from riskstream.offline.handbook.generator import Transactions

HANDBOOK_TRAINING_START = 115  # 2018-07-25, day 115 of the handbook's data from 2018-04-01


@dataclass(frozen=True, slots=True)
class Split:
    train_start: int  # days since the data's start
    train_days: int = 7
    delay_days: int = 7
    test_days: int = 7

    @property
    def train_end(self) -> int:
        """The first day after training."""
        return self.train_start + self.train_days

    @property
    def test_start(self) -> int:
        return self.train_end + self.delay_days

    @property
    def test_end(self) -> int:
        """The first day after the test."""
        return self.test_start + self.test_days


def split_for(days: int) -> Split:
    """The handbook's split (training from day 115) when the data is long enough; on
    shorter data, the test week ends on the last day."""
    split = Split(HANDBOOK_TRAINING_START)
    if split.test_end <= days:
        return split
    start = days - (split.test_end - split.train_start)
    if start < 0:
        raise ValueError(f"{days} days are too few: the protocol needs at least 21")
    return Split(start)


def train_rows(tx: Transactions, split: Split) -> NDArray[np.int64]:
    day = tx.day
    return np.flatnonzero((day >= split.train_start) & (day < split.train_end))


def test_rows(tx: Transactions, split: Split) -> NDArray[np.int64]:
    """The test transactions, without those of cards known compromised by their day."""
    day = tx.day
    known: set[int] = set(tx.customer[train_rows(tx, split)][tx.fraud[train_rows(tx, split)]])
    kept: list[NDArray[np.int64]] = []
    for offset in range(split.test_days):
        learnt_on = split.train_end + offset - 1  # the delay period's day now known
        if offset > 0:
            learnt = (day == learnt_on) & tx.fraud
            known.update(int(c) for c in np.unique(tx.customer[learnt]))
        rows = np.flatnonzero(day == split.test_start + offset)
        blocked = np.isin(tx.customer[rows], np.fromiter(known, dtype=np.int64))
        kept.append(rows[~blocked])
    return np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)


def card_precision_at_k(
    days: NDArray[np.int64],
    cards: NDArray[np.int64],
    scores: NDArray[np.float64],
    fraud: NDArray[np.bool_],
    k: int = 100,
) -> tuple[float, list[float]]:
    """The mean card precision@k over the days present, and each day's. Ties in a
    card's score are broken by the card id, so the figure is deterministic."""
    detected: set[int] = set()
    per_day: list[float] = []
    for day in np.unique(days):
        rows = np.flatnonzero(days == day)
        best: dict[int, tuple[float, bool]] = {}
        for card, score, bad in zip(cards[rows], scores[rows], fraud[rows], strict=True):
            card_id = int(card)
            if card_id in detected:
                continue
            old = best.get(card_id)
            if old is None:
                best[card_id] = (float(score), bool(bad))
            else:
                best[card_id] = (max(old[0], float(score)), old[1] or bool(bad))
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:k]
        hits = [card for card, (_score, bad) in ranked if bad]
        per_day.append(len(hits) / k)
        detected.update(hits)
    mean = float(np.mean(per_day)) if per_day else 0.0
    return mean, per_day
