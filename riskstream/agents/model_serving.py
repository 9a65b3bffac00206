"""The learned models in the live scorer: the replica of ``risk.models`` made to score.

One feature row per transaction (``feature_row``, the same code offline and live) serves
the active model and every shadow; each model reads its own features from it by name.
The active model's opinion takes part in the decision (``agents/scoring.score``); each
shadow's is counted beside it: how often it would have decided as the answer did, more
strictly, or more leniently. The counts live in this worker's memory, from its start
(``/models/`` and ``/stats/``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.agents.scoring import DECISION_RANK, Evidence, ModelOpinion
from riskstream.streams.outputs import Decision, DecisionKind
from riskstream.tables.model_book import ModelBook, ModelEntry

STRONGEST = 3  # features named in a decision's MODEL reason

RowOf = Callable[[Evidence], Sequence[float]]


@dataclass(slots=True)
class ModelCounts:
    """One model version's work on this worker since it started."""

    version: str
    scored: int = 0
    predict_s: float = 0.0
    # Shadows only: how their decision compares with the answer given.
    agreed: int = 0
    stricter: int = 0
    more_lenient: int = 0
    pairs: dict[str, int] = field(default_factory=dict)  # "would->decided": count

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "scored": self.scored,
            "predict_mean_ms": round(1000 * self.predict_s / self.scored, 4)
            if self.scored
            else None,
        }
        compared = self.agreed + self.stricter + self.more_lenient
        if compared:
            body["agreement"] = {
                "compared": compared,
                "agreed": self.agreed,
                "rate": round(self.agreed / compared, 4),
                "stricter": self.stricter,
                "more_lenient": self.more_lenient,
                "pairs": dict(sorted(self.pairs.items())),
            }
        return body


def model_book(known_features: Sequence[str]) -> ModelBook[ModelArtefact]:
    """The book of ``risk.models`` whose artefacts are read by ``ModelArtefact``."""
    return ModelBook(ModelArtefact.from_bytes, known_features)


class ServedModels:
    """The models of ``book`` as the scorer's :class:`~riskstream.agents.scoring.ModelPanel`."""

    def __init__(
        self,
        book: ModelBook[ModelArtefact],
        features: Sequence[str],
        row_of: RowOf,
        strongest: int = STRONGEST,
    ) -> None:
        self.book = book
        self._features = tuple(features)
        self._index = {name: number for number, name in enumerate(self._features)}
        self._row_of = row_of
        self._strongest = strongest
        self._counts: dict[str, ModelCounts] = {}

    def opinions(self, evidence: Evidence) -> tuple[ModelOpinion | None, Sequence[ModelOpinion]]:
        active, shadows = self.book.active, self.book.shadows
        if active is None and not shadows:
            return None, ()
        row = self._row_of(evidence)
        opinion = self._opinion(active, row) if active is not None else None
        return opinion, [self._opinion(shadow, row) for shadow in shadows]

    def _opinion(self, entry: ModelEntry[ModelArtefact], row: Sequence[float]) -> ModelOpinion:
        model = entry.artefact
        own = self._columns(model, row)
        started = time.perf_counter()
        probability = model.probability(own)
        counts = self.counts(entry)
        counts.predict_s += time.perf_counter() - started
        counts.scored += 1
        return ModelOpinion(entry.model_id, model.version, probability, own)

    def strongest(self, opinion: ModelOpinion) -> Sequence[tuple[str, float]]:
        entry = self.book.get(opinion.model_id)
        if entry is None or entry.artefact.version != opinion.version:
            return ()
        return entry.artefact.contributions(opinion.row, self._strongest)

    def _columns(self, model: ModelArtefact, row: Sequence[float]) -> Sequence[float]:
        """The model's own features out of the full row, by name."""
        if model.features == self._features:
            return row
        return [row[self._index[name]] for name in model.features]

    def shadowed(self, shadow: ModelOpinion, would: DecisionKind, decided: Decision) -> None:
        entry = self.book.get(shadow.model_id)
        if entry is None:
            return
        counts = self.counts(entry)
        gap = DECISION_RANK[would] - DECISION_RANK[decided.decision]
        if gap == 0:
            counts.agreed += 1
        elif gap > 0:
            counts.stricter += 1
        else:
            counts.more_lenient += 1
        pair = f"{would}->{decided.decision}"
        counts.pairs[pair] = counts.pairs.get(pair, 0) + 1

    def counts(self, entry: ModelEntry[ModelArtefact]) -> ModelCounts:
        """The counts of ``entry``'s version (a new version of a model id starts anew)."""
        counts = self._counts.get(entry.model_id)
        if counts is None or counts.version != entry.artefact.version:
            counts = self._counts[entry.model_id] = ModelCounts(entry.artefact.version)
        return counts

    def summary(self) -> list[dict[str, Any]]:
        """``/models/``: every model with its mode, version, card and counts."""
        extra: dict[str, dict[str, Any]] = {}
        for entry in self.book.entries():
            counts = self.counts(entry).as_dict()
            extra[entry.model_id] = {
                **counts,
                "created_at": entry.artefact.record.created_at.isoformat(),
                "card": entry.artefact.card.model_dump(mode="json"),
            }
        return self.book.summary(extra)

    def stats(self) -> dict[str, Any]:
        """``/stats/``: the model in use and the shadows' counts."""
        active = self.book.active
        return {
            "active": None if active is None else {
                "model_id": active.model_id, "version": active.artefact.version,
                **self.counts(active).as_dict(),
            },
            "shadows": [
                {"model_id": s.model_id, "version": s.artefact.version, **self.counts(s).as_dict()}
                for s in self.book.shadows
            ],
            "refused": self.book.refused,
        }  # fmt: skip
