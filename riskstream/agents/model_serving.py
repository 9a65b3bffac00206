"""The learned models in the live scorer: the replica of ``risk.models`` made to score.

One feature row per transaction (``feature_row``, the same code offline and live) serves
the active model and every shadow; each model reads its own features from it by name.
The active model's opinion takes part in the decision (``agents/scoring.score``); each
shadow's is counted beside it: how often it would have decided as the answer did, more
strictly, or more leniently. The counts live in this worker's memory, from its start
(``/models/`` and ``/stats/``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from riskstream.agents.model_features import FEATURES, feature_row
from riskstream.agents.scoring import DECISION_RANK, Evidence, ModelOpinion
from riskstream.streams.outputs import Decision, DecisionKind
from riskstream.tables.model_book import ModelBook, ModelEntry

if TYPE_CHECKING:
    from riskstream.agents.model_artefact import ModelArtefact
    from riskstream.agents.model_thresholds import DecisionThresholds

log = logging.getLogger(__name__)
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
    failed: int = 0  # rows it raised on (the rules decided alone)
    pairs: dict[str, int] = field(default_factory=dict)  # "would->decided": count

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "scored": self.scored,
            "failed": self.failed,
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


def read_artefact(raw: bytes) -> ModelArtefact:
    """``ModelArtefact.from_bytes``, LightGBM imported at the first model: it takes
    seconds, which every command and a worker without models need not pay."""
    from riskstream.agents.model_artefact import ModelArtefact  # noqa: PLC0415

    return ModelArtefact.from_bytes(raw)


def model_book(known_features: Sequence[str]) -> ModelBook[ModelArtefact]:
    """The book of ``risk.models`` whose artefacts are read by ``ModelArtefact``."""
    return ModelBook(read_artefact, known_features)


def _dumped(thresholds: DecisionThresholds | None) -> dict[str, Any] | None:
    return None if thresholds is None else thresholds.model_dump(mode="json")


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

    @classmethod
    def of(
        cls, active: ModelArtefact | None, shadows: Sequence[ModelArtefact] = ()
    ) -> ServedModels:
        """Models in force without a topic (offline: the scorer's combination over a
        file of events, for a backtest of model files)."""
        book = model_book(FEATURES)
        for shadow in shadows:
            book.put(shadow, "shadow")
        if active is not None:
            book.put(active, "active")
        return cls(book, FEATURES, feature_row)

    def opinions(self, evidence: Evidence) -> tuple[ModelOpinion | None, Sequence[ModelOpinion]]:
        active, shadows = self.book.active, self.book.shadows
        if active is None and not shadows:
            return None, ()
        row = self._row_of(evidence)
        opinion = self._opinion(active, row) if active is not None else None
        opinions = [self._opinion(shadow, row) for shadow in shadows]
        return opinion, [shadow for shadow in opinions if shadow is not None]

    def _opinion(
        self, entry: ModelEntry[ModelArtefact], row: Sequence[float]
    ) -> ModelOpinion | None:
        """The model's opinion; None, counted and logged, if it fails on this row (the
        decision is then the rules' alone, not an error for the caller)."""
        model = entry.artefact
        counts = self.counts(entry)
        started = time.perf_counter()
        try:
            own = self._columns(model, row)
            probability = model.probability(own)
        except Exception as error:  # whatever LightGBM raises on this row
            counts.failed += 1
            if counts.failed == 1 or counts.failed % 1000 == 0:
                log.error("model %s %s failed %d times, last: %r",
                          entry.model_id, model.version, counts.failed, error)  # fmt: skip
            return None
        counts.predict_s += time.perf_counter() - started
        counts.scored += 1
        return ModelOpinion(
            entry.model_id, model.version, probability, own, thresholds=model.thresholds
        )

    def strongest(self, opinion: ModelOpinion) -> Sequence[tuple[str, float]]:
        entry = self.book.get(opinion.model_id)
        if entry is None or entry.artefact.version != opinion.version:
            return ()
        try:
            return entry.artefact.contributions(opinion.row, self._strongest)
        except Exception as error:  # the reason goes without them, not the answer
            log.error("model %s: no contributions: %r", opinion.model_id, error)
            return ()

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
                "thresholds": _dumped(entry.artefact.thresholds),
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
