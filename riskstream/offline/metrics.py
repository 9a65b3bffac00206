"""Ranking metrics over scores with binary labels, in plain Python (no numpy needed)."""

from __future__ import annotations

from collections.abc import Sequence
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


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
