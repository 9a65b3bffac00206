"""riskstream's scores on the handbook's data, through a small plug point.

- The rules: the converted events replayed on the core with the shipped pack and
  scoring rules (:class:`~riskstream.offline.native.NativeReplay`, as ``riskstream
  replay``); each transaction's score is the decision's 0-100 points.
- The model: a :data:`ModelRunner` trains on the protocol's training week, with the
  labels the feedback events have delivered by the label cut-off (the test week's
  start), and scores the test week. :func:`model_runner` finds the one riskstream
  ships, or None (printed as "model: not available").
- Both together (ranking only): the larger of 100 x the model's probability and the
  rules' points (:func:`combined`; not through the model's decision thresholds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
from numpy.typing import NDArray
from rich.console import Console

from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.handbook.events import row_of
from riskstream.offline.native import NativeReplay
from riskstream.offline.rules import rule_center
from riskstream.offline.run import NATIVE_CHUNK


@dataclass(frozen=True, slots=True)
class ModelJob:
    """What a model runner gets: the events (transactions and the fraud feedback, dated
    as it arrives), the training window, the label cut-off and the events to score."""

    events: Path
    train_from: datetime
    train_to: datetime  # exclusive
    label_cutoff: datetime  # feedback after it is unknown to the training
    score_ids: list[str]
    work_dir: Path


# The fraud probability of each of ``job.score_ids``, in that order.
ModelRunner = Callable[[ModelJob, Console], NDArray[np.float64]]


def model_runner() -> ModelRunner | None:
    """riskstream's model trainer and offline scorer (``offline/handbook/model``); None
    when LightGBM, which it needs, is not installed."""
    try:
        from riskstream.offline.handbook.model import train_and_score  # noqa: PLC0415
    except ImportError:
        return None
    return train_and_score


def rule_scores(
    events: Path,
    rows: NDArray[np.int64],
    console: Console,
    policy: DecisionPolicy | None = None,
) -> NDArray[np.float64]:
    """Each of ``rows``' score (0-100) from a replay of ``events`` with the shipped pack."""
    native = NativeReplay(rule_center(None), policy)
    with console.status("replay: reading the events"):
        bad = native.load(events)
    if bad:
        raise ValueError(f"{events}: {len(bad)} invalid lines, the first: {bad[0]}")
    wanted = {int(row): index for index, row in enumerate(rows.tolist())}
    scores = np.full(len(rows), np.nan)
    total = len(native)
    done = 0
    with console.status("replay: the shipped rules") as status:
        while done < total:
            decisions, _signals, _shadow = native.run(NATIVE_CHUNK)
            done += NATIVE_CHUNK
            status.update(f"replay: the shipped rules, {min(done, total):,} of {total:,} events")
            for line in decisions.splitlines():
                decision = orjson.loads(line)
                row = row_of(str(decision["event_id"]))
                index = wanted.get(row) if row is not None else None
                if index is not None:
                    scores[index] = float(decision["score"])
    if np.isnan(scores).any():
        scored = int((~np.isnan(scores)).sum())
        raise ValueError(f"the replay scored {scored} of {len(rows)} test transactions")
    return scores


def combined(model: NDArray[np.float64], rules: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rules and model for the ranking metrics (AUC, AP, card precision@100): the larger
    of 100 x the model's probability and the rules' points, unrounded, so that ties do
    not hide the model's ranking. It does not use the model's points map (its decision
    thresholds, ``agents/model_thresholds.py``), which the live scorer applies before
    that maximum: the map is monotone, so the model's own ranking is the same, but the
    maximum with the rules' points ranks differently through it. No decision is taken
    from this score, so the thresholds play no part here."""
    return np.maximum(100.0 * model, rules)
