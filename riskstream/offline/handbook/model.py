"""riskstream's model on the handbook protocol: trained as ``riskstream model train``
trains (``offline/training``), on the evidence of the live scorer's own code
(``offline/scoring_pass``), then scoring the test week.

One pass of the scoring code over the events, in event time, gives both the training
rows (the training week) and the test rows: a row's evidence depends only on the events
before it, so reading on past the label cut-off changes no training row, and the
labels are the verdicts dated at or before the cut-off (``training.verdicts_at``), as
``model train --cutoff`` takes them. One pass instead of two: the scoring code runs a
few milliseconds an event.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from rich.console import Console

from riskstream.agents.model_features import FEATURES, feature_row
from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.handbook.scoring import ModelJob
from riskstream.offline.rules import rule_center
from riskstream.offline.scoring_pass import ScoringPass
from riskstream.offline.training import TrainingSet, train, verdicts_at
from riskstream.streams.events import to_epoch_ms


def train_and_score(
    job: ModelJob, console: Console, policy: DecisionPolicy | None = None
) -> NDArray[np.float64]:
    """The fraud probability of each of ``job.score_ids`` from a model trained on the
    transactions of ``[job.train_from, job.train_to)`` labelled as known at
    ``job.label_cutoff``."""
    scoring = ScoringPass(rule_center(None), policy)
    with console.status("model: reading the events"):
        bad = scoring.load(job.events)
    if bad:
        raise ValueError(f"{job.events}: {len(bad)} invalid lines, the first: {bad[0]}")
    from_ms, to_ms = to_epoch_ms(job.train_from), to_epoch_ms(job.train_to)
    wanted = {event_id: index for index, event_id in enumerate(job.score_ids)}
    found = TrainingSet()
    test = np.full((len(job.score_ids), len(FEATURES)), math.nan)
    seen = np.zeros(len(job.score_ids), dtype=np.bool_)
    with console.status("model: the scoring pass") as status:

        def told(done: int, total: int) -> None:
            status.update(f"model: the scoring pass, {done:,} of {total:,} events")

        for scored in scoring.run(progress=told):
            txn = scored.transaction
            if from_ms <= txn.occurred_ms < to_ms:
                found.rows.extend(feature_row(scored.evidence))
                found.times_ms.append(txn.occurred_ms)
                found.rule_scores.append(scored.decision.score)
                found.event_ids.append(txn.event_id)
            index = wanted.get(txn.event_id)
            if index is not None:
                test[index] = feature_row(scored.evidence)
                seen[index] = True
    if not seen.all():
        raise ValueError(f"the scoring pass met {int(seen.sum())} of {len(seen)} test events")
    verdicts = verdicts_at(scoring.feedback, to_epoch_ms(job.label_cutoff))
    found.labels = [int(verdicts.get(event_id) == "fraud") for event_id in found.event_ids]
    with console.status(f"model: training on {len(found):,} rows"):
        artefact = train(found, job.label_cutoff, model_id="handbook")
    job.work_dir.mkdir(parents=True, exist_ok=True)
    (job.work_dir / "model.json").write_bytes(artefact.to_bytes())
    return np.array([artefact.probability(row.tolist()) for row in test], dtype=np.float64)
