"""The backtest's pictures: precision-recall curves and alerts per day, as PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt

from riskstream.offline.evaluation import Evaluation
from riskstream.offline.metrics import CurvePoint


def pr_steps(curve: Sequence[CurvePoint]) -> tuple[list[float], list[float]]:
    """The precision-recall curve as the staircase whose area is the average precision:
    each threshold's precision holds from the previous threshold's recall up to its own
    (AP = sum of (R_n - R_n-1) * P_n), so a higher AP is always a larger area."""
    recall: list[float] = []
    precision: list[float] = []
    previous = 0.0
    for point in curve:
        recall += [previous, point.recall]
        precision += [point.precision, point.precision]
        previous = point.recall
    return recall, precision


def plot_pr_curves(runs: dict[str, Evaluation], path: Path) -> Path:
    curves = {
        name: (evaluation.curve, evaluation.average_precision) for name, evaluation in runs.items()
    }
    base_rate = next(
        (e.fraud_transactions / e.transactions for e in runs.values() if e.transactions), None
    )
    return plot_pr(curves, base_rate, path, "Scores: precision against recall")


def plot_pr(
    curves: Mapping[str, tuple[Sequence[CurvePoint], float | None]],
    base_rate: float | None,
    path: Path,
    title: str,
) -> Path:
    """Each named curve with its average precision, drawn as AP is computed
    (:func:`pr_steps`)."""
    figure, axes = plt.subplots(figsize=(6.4, 4.8))
    for name, (curve, ap) in curves.items():
        if not curve:
            continue
        recall, precision = pr_steps(curve)
        label = f"{name} (AP {ap:.3f})" if ap is not None else name
        axes.plot(recall, precision, label=label)
    if base_rate is not None:
        axes.axhline(base_rate, color="grey", linestyle=":", label=f"base rate {base_rate:.3%}")
    axes.set(xlabel="recall (fraud transactions)", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_alerts_per_day(evaluation: Evaluation, title: str, path: Path) -> Path:
    days = sorted({day for counts in evaluation.alerts_per_day.values() for day in counts})
    figure, axes = plt.subplots(figsize=(8, 4.8))
    bottom = [0] * len(days)
    positions = list(range(len(days)))
    colours = plt.get_cmap("tab20")
    for index, (rule_id, counts) in enumerate(sorted(evaluation.alerts_per_day.items())):
        heights = [counts.get(day, 0) for day in days]
        colour = colours(index % colours.N)
        axes.bar(positions, heights, bottom=bottom, label=rule_id, color=colour)
        bottom = [low + height for low, height in zip(bottom, heights, strict=True)]
    axes.set_xticks(positions, [day.isoformat() for day in days], rotation=45, ha="right")
    axes.set(ylabel="alerts", title=f"Alerts per day by rule: {title}")
    axes.grid(axis="y", alpha=0.3)
    if evaluation.alerts_per_day:
        axes.legend(fontsize="x-small", ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
