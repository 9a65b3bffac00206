"""Ranking metrics over scores with binary labels, in plain Python (no numpy needed)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CurvePoint:
    threshold: float
    precision: float
    recall: float


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve: the chance that a random positive outranks a random
    negative (ties count half). None without both classes."""
    positives = sum(labels)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda index: scores[index])
    rank_sum = 0.0
    position = 0
    while position < len(order):
        end = position
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[position]]:
            end += 1
        average_rank = (position + end) / 2 + 1
        rank_sum += average_rank * sum(labels[order[i]] for i in range(position, end + 1))
        position = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def pr_curve(scores: Sequence[float], labels: Sequence[bool]) -> list[CurvePoint]:
    """Precision and recall at every distinct score used as the threshold (score >= t)."""
    positives = sum(labels)
    if positives == 0:
        return []
    order = sorted(range(len(scores)), key=lambda index: -scores[index])
    points: list[CurvePoint] = []
    true_positives = 0
    taken = 0
    position = 0
    while position < len(order):
        threshold = scores[order[position]]
        while position < len(order) and scores[order[position]] == threshold:
            true_positives += labels[order[position]]
            taken += 1
            position += 1
        points.append(CurvePoint(threshold, true_positives / taken, true_positives / positives))
    return points


def average_precision(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Precision averaged over the recall steps of the PR curve (as scikit-learn's
    ``average_precision_score``). None without positives."""
    curve = pr_curve(scores, labels)
    if not curve:
        return None
    total = 0.0
    previous_recall = 0.0
    for point in curve:
        total += (point.recall - previous_recall) * point.precision
        previous_recall = point.recall
    return total


def precision_at_k(rows: Iterable[tuple[Hashable, Hashable, float, bool]], k: int) -> float | None:
    """Daily precision@k of entities, averaged over the days (the handbook's "card
    precision@k", here of accounts or cards).

    ``rows`` are ``(day, entity, score, fraud)``, one per transaction. An entity's score on
    a day is the highest of its transactions that day; it counts as fraud that day when
    any of them is. Each day, the ``k`` entities with the highest scores are taken (all
    of them when fewer) and the share that are fraud is that day's precision. Entities
    tied at the cut-off are taken in part, each by the share of the tie that fits: the
    expected precision of breaking the tie at random, so that a scorer that gives most
    entities the same score (0) is not credited with an order it did not make. None
    without rows.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    days: dict[Hashable, dict[Hashable, tuple[float, bool]]] = defaultdict(dict)
    for day, entity, score, fraud in rows:
        best, bad = days[day].get(entity, (score, fraud))
        days[day][entity] = (max(best, score), bad or fraud)
    if not days:
        return None
    daily = []
    for entities in days.values():
        ranked = sorted(entities.values(), key=lambda item: -item[0])
        take = min(k, len(ranked))
        found = 0.0
        position = 0
        while position < take:
            score = ranked[position][0]
            end = position
            while end < len(ranked) and ranked[end][0] == score:
                end += 1
            tied = ranked[position:end]
            share = min(take - position, len(tied)) / len(tied)
            found += share * sum(fraud for _, fraud in tied)
            position = end
        daily.append(found / take)
    return sum(daily) / len(daily)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
