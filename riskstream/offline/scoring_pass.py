"""The offline scoring pass: every transaction of a file decided by the live scorer's own
code (``agents/scoring.gather`` and ``score``), with the evidence it was decided on.

The core's replay (:mod:`riskstream.offline.native`) is the fast path for rules-only
replay, but it keeps its evidence to itself; training and judging a learned model need
that evidence as the live scorer sees it, in Python. So this pass walks the events in the
core's order (event time, then id, then line; tokenised as replay tokenises them) beside
a :class:`NativeReplay` of the same file, one event at a time, and for each event:

1. a transaction is decided from a :class:`ProfileBook` fed, as a worker's is, every
   signal published so far (those of earlier events), plus its own signals on its
   account's rules (the core's what-if, live), the account's outgoing total so far this
   UTC day, and the long-horizon profiles in force (``tables/history_replay``: the
   snapshot at the start of each ``RISKSTREAM_PROFILES_PERIOD_MINUTES``, as a worker's
   are taken, built from this file's events before it);
2. then the book learns the signals the event fired (all groups) and, for feedback, its
   verdict; the day's total counts the transaction if it moved money out.

That is the core replay's own order of work, so without a model the decisions are the
core's decision lines (the check: ``Scored.core``); a copy of an event already decided
(same id) is decided once, as by the core, and yielded once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.agents.model_features import feature_row
from riskstream.agents.plan import rule_groups
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.scoring import (
    DecisionPolicy,
    Evidence,
    ModelOpinion,
    ModelPanel,
    gather,
    is_spend,
    score,
)
from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.offline.jsonl import MAX_LINE_BYTES, BadLine, read_lines
from riskstream.offline.native import NativeReplay
from riskstream.streams.codec import dumps, loads
from riskstream.streams.events import Event, Feedback, Transaction
from riskstream.streams.outputs import Decision, DecisionKind, Signal
from riskstream.streams.redaction import Tokeniser, token_key
from riskstream.streams.settings import get_settings
from riskstream.tables.books import PenaltyBook, ProfileBook
from riskstream.tables.history_replay import ReplayHistory

DAY_MS = 86_400_000
PROGRESS_EVERY = 5000


@dataclass(frozen=True, slots=True)
class Scored:
    transaction: Transaction
    evidence: Evidence
    decision: Decision
    core: dict[str, Any]  # the core replay's decision line for the same transaction


@dataclass(slots=True)
class _Spend:
    day: int = -1
    total: Decimal = Decimal(0)


class ScoringPass:
    """One pass of the live scorer's code over a file of events."""

    def __init__(
        self,
        center: RuleCenter,
        policy: DecisionPolicy | None = None,
        *,
        secret: bytes | None = None,
        model: ModelPanel | None = None,
        history: ReplayHistory | None = None,
        with_history: bool = True,
    ) -> None:
        """``history``: long-horizon profiles to go on from (a fresh build, fed this
        file's events, by default; none with ``with_history=False``)."""
        self.center = center
        self.policy = policy or DecisionPolicy()
        secret = token_key(get_settings()) if secret is None else secret
        self._tokeniser = Tokeniser(secret)
        self._native = NativeReplay(center, self.policy, secret=secret)
        # Group 0 holds the rules keyed by the account: the what-if a live score runs.
        self._account_rules = {rule.doc.id for rule in rule_groups(center.ruleset)[0]}
        self._model = model
        self._history = history if history is not None or not with_history else ReplayHistory()
        self._order: list[tuple[int, str, int, bytes]] = []
        self.book = ProfileBook()
        self.signals: list[Signal] = []  # every signal the replay published, in order
        self.shadow: list[Signal] = []  # and every shadow rule's
        self.feedback: list[Feedback] = []  # every verdict read, in order

    def load(self, path: Path, max_bytes: int = MAX_LINE_BYTES) -> list[BadLine]:
        """Read the file (both sides); the invalid lines, by number."""
        bad = self._native.load(path, max_bytes)
        skipped = {item.line for item in bad}
        for line, raw in read_lines(path):
            if line in skipped:
                continue
            try:
                event = self._parse(raw, max_bytes)
            except InvalidEventError as error:  # the core took it; say so rather than drift
                raise ValueError(f"{path}:{line}: the core read it, Python refused it: "
                                 f"{error.rejection.reason}") from None  # fmt: skip
            self._order.append((event.occurred_ms, event.event_id, line, raw))
        self._order.sort(key=lambda item: item[:3])
        if len(self._order) != len(self._native):
            raise ValueError(
                f"{path}: the core read {len(self._native)} events, Python {len(self._order)}"
            )
        return bad

    def _parse(self, raw: bytes, max_bytes: int) -> Event:
        return parse_event(raw, max_bytes=max_bytes, redact=self._tokeniser.tokenise)

    def __len__(self) -> int:
        return len(self._order)

    def run(
        self, until_ms: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> Iterator[Scored]:
        """Every transaction in event-time order, decided; once per event id. With
        ``until_ms``, the pass stops before the first event dated after it (it reads
        nothing later). ``progress(done, total)`` is told every ``PROGRESS_EVERY`` events."""
        spend: dict[str, _Spend] = {}
        decided: set[str] = set()
        rules = list(self.center.score_rules.values())
        version = self.center.version
        for done, (at_ms, _, _, raw) in enumerate(self._order):
            if until_ms is not None and at_ms > until_ms:
                break
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, len(self._order))
            event = self._parse(raw, MAX_LINE_BYTES)
            lines, signals, shadow = self._native.run(1)
            # The profiles in force for it, taken before it is learnt.
            snapshot = self._history.observe(event) if self._history is not None else None
            repeat = event.event_id in decided
            if isinstance(event, Transaction) and not repeat:
                decided.add(event.event_id)
                account = spend.get(event.account_id)
                day = event.occurred_ms // DAY_MS
                spent = account.total if account is not None and account.day == day else Decimal(0)
                own = [s for s in signals if s.rule_id in self._account_rules]
                evidence = gather(
                    event, self.book, _NO_PENALTIES, event.occurred_at, spent, own,
                    history=snapshot,
                )  # fmt: skip
                decision = score(evidence, rules, self.policy, version, model=self._model)
                yield Scored(event, evidence, decision, orjson.loads(lines))
                if is_spend(event):
                    if account is None or account.day != day:
                        account = spend[event.account_id] = _Spend(day)
                    account.total += event.amount
            elif isinstance(event, Transaction):
                pass  # a copy: the core repeats its decision, and it moved no money again
            elif isinstance(event, Feedback):
                self.book.apply_feedback(event)
                self.feedback.append(event)
            for signal in signals:
                self.book.apply_signal(loads(dumps(signal)))  # as a worker reads the topic
            self.signals += signals
            self.shadow += shadow


_NO_PENALTIES = PenaltyBook()  # offline, no operator entries are in force


def same_as_core(scored: Scored) -> bool:
    """Whether the pass decided as the core's replay did: score, decision and reasons."""
    mine = loads(dumps(scored.decision))
    core = scored.core
    return bool(
        mine["score"] == core["score"]
        and mine["decision"] == core["decision"]
        and mine.get("reasons", []) == core.get("reasons", [])
    )


class OfflineModel:
    """One model as the scorer's model panel (``agents/scoring.ModelPanel``): active,
    no shadows; its feature row from the evidence by the model's own feature names."""

    def __init__(self, artefact: ModelArtefact, strongest: int = 3) -> None:
        self.artefact = artefact
        self._strongest = strongest

    def opinions(self, evidence: Evidence) -> tuple[ModelOpinion | None, Sequence[ModelOpinion]]:
        model = self.artefact
        row = feature_row(evidence, model.features)
        probability = model.probability(row)
        return ModelOpinion(
            model.model_id, model.version, probability, row, thresholds=model.thresholds
        ), ()

    def strongest(self, opinion: ModelOpinion) -> Sequence[tuple[str, float]]:
        return self.artefact.contributions(opinion.row, self._strongest)

    def shadowed(self, shadow: ModelOpinion, would: DecisionKind, decided: Decision) -> None:
        """No shadows offline."""
