"""The real-time scorer's functional core: a transaction and what is known about its
entities in, a score (0-100, -1 = cannot judge) and a decision out. No Kafka, no HTTP.

How a decision is reached, in order:
1. a frozen account, or a blocked entity of the transaction (account, device, IP,
   counterparty, card), rejects;
2. an allow-listed account accepts with score 0 (allow-listing another entity only
   silences that entity's signals);
3. an amount above a per-transaction limit, or a day's outgoing total above a daily
   limit, rejects;
4. otherwise each rule with active signals on one of the transaction's entities (those
   published so far, and those the transaction itself fires on its account's rules)
   contributes the severity of its strongest signal there (a rule firing ten times on
   one account is one piece of evidence, not ten), and every matching scoring rule its
   points, combined as independent evidence: ``score = 100 * (1 - prod(1 - p / 100))``
   (two signals of 50 give 75, not 100); when every contribution is a signal of a
   ``score``-effect rule, the score stays below the review threshold;
5. with an active learned model (``risk.models``; ``agents/model_serving.py``), which saw
   that same evidence among its features, the score is instead
   ``max(model_points(p), decide_points)``: its calibrated probability through its
   decision thresholds (``agents/model_thresholds.py``: chosen by friction budget when it
   was trained; ``round(100 * p)`` for a model made before them), never below what the
   evidence that may decide alone (``_deciding``) adds up to; a ``MODEL`` reason naming
   its strongest features comes first, and the decision names its version;
6. the score maps to a decision by the policy's thresholds; a step-up or review entry
   (from an operator or imposed by a rule through its signal) raises the decision to at
   least challenge or review.

Shadow models are scored beside, through the same arithmetic (each through its own
thresholds), and told how they would have decided; they never change the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson

from riskstream.agents.cep.expressions import cel_view, project
from riskstream.agents.model_thresholds import DecisionThresholds, model_points
from riskstream.agents.score_rules import CompiledScoreRule, matching_rules
from riskstream.core import CelContext
from riskstream.streams.events import OUTGOING, Event, Transaction, to_epoch_ms
from riskstream.streams.outputs import Decision, DecisionKind, Reason, Signal
from riskstream.streams.scoring_model import Penalty
from riskstream.streams.settings import Settings
from riskstream.tables.books import ActiveSignal, PenaltyBook, ProfileBook
from riskstream.tables.history_summary import HistorySource

# The entities a transaction touches: (entity type, transaction field).
TRANSACTION_ENTITIES = (
    ("account", "account_id"),
    ("device", "device_id"),
    ("ip", "ip"),
    ("counterparty", "counterparty_id"),
    ("merchant", "counterparty_id"),
    ("instrument", "instrument_id"),
)


def is_spend(event: Event) -> bool:
    """Whether an event counts towards its account's daily outgoing total."""
    return isinstance(event, Transaction) and event.type in OUTGOING and event.status != "failed"


DECISION_RANK: dict[DecisionKind, int] = {"accept": 0, "review": 1, "challenge": 2, "reject": 3}


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    review_at: int = 40
    challenge_at: int = 60
    reject_at: int = 80
    # What to suggest when the score is -1 (the engine cannot judge).
    unknown: DecisionKind = "review"

    def decide(self, score: int) -> DecisionKind:
        if score < 0:
            return self.unknown
        if score >= self.reject_at:
            return "reject"
        if score >= self.challenge_at:
            return "challenge"
        if score >= self.review_at:
            return "review"
        return "accept"


def policy_from(settings: Settings) -> DecisionPolicy:
    """The decision thresholds configured through ``RISKSTREAM_SCORE_*``."""
    return DecisionPolicy(
        review_at=settings.score_review_at,
        challenge_at=settings.score_challenge_at,
        reject_at=settings.score_reject_at,
        unknown=settings.score_unknown_decision,
    )


@dataclass(slots=True)
class Evidence:
    """What is known about a transaction's entities at the moment it is scored."""

    transaction: Transaction
    signals: dict[str, list[ActiveSignal]] = field(default_factory=dict)
    penalties: dict[str, list[Penalty]] = field(default_factory=dict)
    spent_today: Decimal = Decimal(0)
    # Entity type -> its long-horizon profile (``tables/history_summary.py``), if known.
    history: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    # The transaction as the core reads it (``live_rules.projection``), when the caller
    # has it already; made from the transaction otherwise.
    projection: bytes | None = None

    def variables(self) -> dict[str, Any]:
        """What scoring rules see: ``event``, ``profiles.<type>`` (active signals, and the
        long-horizon fields beside them) and ``penalties.<type>``."""
        return {"event": cel_view(project(self.transaction)), **self._entity_variables()}

    def cel_context(self) -> CelContext:
        """:meth:`variables` converted for the core's conditions, once per decision."""
        projection = self.projection
        if projection is None:
            txn = self.transaction
            projection = orjson.dumps({"ms": txn.occurred_ms, "fields": project(txn)})
        return CelContext(projection, self._entity_variables())

    def _entity_variables(self) -> dict[str, Any]:
        profiles: dict[str, dict[str, Any]] = {
            kind: {
                **self.history.get(kind, {}),
                "count": len(signals),
                "max_severity": max((s.severity for s in signals), default=0),
                "patterns": sorted({s.pattern for s in signals}),
            }
            for kind, signals in self.signals.items()
        }
        for kind, _ in TRANSACTION_ENTITIES:
            if kind not in profiles:
                history = self.history.get(kind)
                profiles[kind] = {**history, **_NO_SIGNALS} if history else _NO_SIGNALS
        penalties = self.penalties
        return {
            "profiles": profiles,
            "penalties": {
                kind: sorted({p.kind for p in penalties[kind]}) if kind in penalties else []
                for kind, _ in TRANSACTION_ENTITIES
            },
            "spent_today": float(self.spent_today),
        }


# An entity without signals, as scoring rules see it (never changed: only read).
_NO_SIGNALS: dict[str, Any] = {"count": 0, "max_severity": 0, "patterns": []}


def gather(
    transaction: Transaction,
    profiles: ProfileBook,
    penalties: PenaltyBook,
    now: datetime,
    spent_today: Decimal = Decimal(0),
    own: Iterable[Signal] = (),
    counts: Callable[[str, int], bool] | None = None,
    history: HistorySource | None = None,
) -> Evidence:
    """The profiles and penalties of the transaction's entities, plus ``own``: the
    signals the transaction itself fires on its account's rules (the core's what-if).
    ``counts(rule id, rule version)``: whether a signal still counts (its rule was not
    revoked); all do without it. ``history``: where the entities' long-horizon profiles
    are (the worker's replica of ``risk.profiles``, or a replay's snapshot)."""
    evidence = Evidence(transaction, spent_today=spent_today)
    # Scoring in event time (replay), ``now`` is the transaction's own time, whose epoch
    # milliseconds the event keeps; converting a datetime costs more than the lookups.
    now_ms = transaction.occurred_ms if now is transaction.occurred_at else to_epoch_ms(now)
    for kind, field_name in TRANSACTION_ENTITIES:
        entity_id = getattr(transaction, field_name, None)
        if not entity_id:
            continue
        entity_id = str(entity_id)
        signals = profiles.active(kind, entity_id, now_ms)
        if counts is not None:
            signals = [s for s in signals if counts(s.rule_id, s.rule_version)]
        if signals:
            evidence.signals[kind] = signals
        entries = penalties.for_entity(kind, entity_id, now)
        if entries:
            evidence.penalties[kind] = entries
        if history is not None:
            profile = history.lookup(kind, entity_id)
            if profile:
                evidence.history[kind] = profile
    for signal in own:
        known = evidence.signals.setdefault(signal.entity_type, [])
        if all(item.signal_id != signal.signal_id for item in known):
            known.append(ActiveSignal.of(signal))
    return evidence


def _imposed(evidence: Evidence) -> list[tuple[str, str, str]]:
    """(entity type, penalty kind, source) of every entry in force: operator entries and
    those that rules impose through their signals."""
    found: list[tuple[str, str, str]] = [
        (kind, penalty.kind, penalty.source)
        for kind, entries in evidence.penalties.items()
        for penalty in entries
    ]
    for kind, signals in evidence.signals.items():
        for signal in signals:
            if signal.penalty and signal.penalty.get("kind"):
                found.append((kind, str(signal.penalty["kind"]), signal.rule_id))
    return found


@dataclass(frozen=True, slots=True)
class ModelOpinion:
    """A learned model's view of one transaction: its calibrated probability of fraud,
    the row it read, once asked the features that moved it most (name, contribution in
    log-odds), and the model's decision thresholds (None: ``round(100 * p)``)."""

    model_id: str
    version: str
    probability: float
    row: Sequence[float] = field(default=(), compare=False, repr=False)
    strongest: tuple[tuple[str, float], ...] = ()
    thresholds: DecisionThresholds | None = field(default=None, compare=False, repr=False)

    def points(self, policy: DecisionPolicy) -> int:
        """Its probability as 0-100 points under ``policy``'s thresholds."""
        return model_points(self.probability, self.thresholds, policy)


class ModelPanel(Protocol):
    """The learned models in force: the active one (if any) and the shadows."""

    def opinions(self, evidence: Evidence) -> tuple[ModelOpinion | None, Sequence[ModelOpinion]]:
        """The active model's opinion (None without one), and each shadow's."""
        ...

    def strongest(self, opinion: ModelOpinion) -> Sequence[tuple[str, float]]:
        """The features that moved ``opinion`` most, strongest first (costly: asked only
        for the decisions that impose friction)."""
        ...

    def shadowed(self, shadow: ModelOpinion, would: DecisionKind, decided: Decision) -> None:
        """Shadow ``shadow`` would have decided ``would`` where ``decided`` was the answer."""
        ...


_FLOORS: tuple[tuple[DecisionKind, str, str], ...] = (
    ("challenge", "step_up", "STEP_UP_REQUIRED"),
    ("review", "review", "REVIEW_REQUIRED"),
)


def score(
    evidence: Evidence,
    rules: list[CompiledScoreRule],
    policy: DecisionPolicy,
    rules_version: str,
    *,
    budget_ms: float | None = None,
    on_slow: Callable[[list[tuple[str, float]], float], object] | None = None,
    model: ModelPanel | None = None,
) -> Decision:
    """The decision for ``evidence``. With ``budget_ms``, a scoring rule whose evaluation
    takes longer is left out of this decision and given to ``on_slow`` (rule id,
    milliseconds) with the budget; the answer comes all the same. With ``model``, its
    active model takes part and its shadows are scored beside (see the module's text);
    entries in force that decide alone still do, before any model is asked."""
    txn = evidence.transaction
    kinds = {(entity, kind) for entity, kind, _ in _imposed(evidence)}
    # Without entries in force (the usual case) none of them can decide alone.
    if kinds:
        alone = _entries_decide(evidence, kinds)
        if alone is not None:
            return _decision(txn, rules_version, *alone)

    allowed = {entity for entity, kind in kinds if kind == "allow"}
    contributions: list[tuple[int, Reason]] = []
    seen: set[tuple[str, str]] = set()
    for entity, signals in sorted(evidence.signals.items()):
        if entity in allowed:
            continue
        # Strongest first, so each rule is represented by its strongest live signal.
        for signal in signals:
            if (entity, signal.rule_id) in seen:
                continue
            seen.add((entity, signal.rule_id))
            contributions.append((signal.severity, Reason(
                code="SIGNAL", detail=f"{signal.pattern} on {entity}",
                signal_id=signal.signal_id, rule_id=signal.rule_id,
            )))  # fmt: skip
    slow: list[tuple[str, float]] = []
    for rule in matching_rules(rules, evidence.cel_context(), budget_ms, slow):
        reason = Reason(code=rule.doc.code, detail=rule.doc.description, rule_id=rule.doc.id)
        contributions.append((rule.doc.points, reason))
    if slow and on_slow is not None and budget_ms is not None:
        on_slow(slow, budget_ms)
    reasons = [reason for _, reason in sorted(contributions, key=lambda item: -item[0])]
    decide_points = _noisy_or(_deciding(contributions, evidence))
    active, shadows = model.opinions(evidence) if model is not None else (None, ())
    if active is None:
        points = _effect_capped(_noisy_or(contributions), contributions, evidence, policy)
    else:
        points = max(active.points(policy), decide_points)
    imposed_kinds = {kind for _, kind in kinds}
    decision, floors = _floored(policy.decide(points), imposed_kinds)
    if active is not None and model is not None:
        # Naming the strongest features costs many predicts (SHAP values): done for the
        # decisions someone acts on, not for the accepts that are most of the traffic.
        if decision != "accept":
            active = replace(active, strongest=tuple(model.strongest(active)))
        reasons.insert(0, _model_reason(active))
    decided = _decision(
        txn, rules_version, points, decision, reasons + floors,
        active.version if active is not None else None,
    )  # fmt: skip
    if model is not None:
        for shadow in shadows:
            would = policy.decide(max(shadow.points(policy), decide_points))
            model.shadowed(shadow, _floored(would, imposed_kinds)[0], decided)
    return decided


def _deciding(
    contributions: list[tuple[int, Reason]], evidence: Evidence
) -> list[tuple[int, Reason]]:
    """The contributions that may decide alone, which a model's probability never
    lowers: the scoring rules and the signals of ``decide``-effect rules (a
    ``score``-effect signal reaches the score through the model's features only)."""
    weak = _score_effect_signals(evidence)
    return [item for item in contributions if item[1].signal_id not in weak]


def _score_effect_signals(evidence: Evidence) -> set[str]:
    return {
        signal.signal_id
        for signals in evidence.signals.values()
        for signal in signals
        if signal.effect == "score"
    }


def _noisy_or(contributions: list[tuple[int, Reason]]) -> int:
    """Independent evidence combined: ``100 * (1 - prod(1 - p / 100))``."""
    remaining = 1.0
    for points, _ in contributions:
        remaining *= 1 - points / 100
    return round(100 * (1 - remaining))


def _model_reason(opinion: ModelOpinion) -> Reason:
    strongest = ", ".join(f"{name} {value:+.2f}" for name, value in opinion.strongest)
    detail = f"model {opinion.model_id} ({opinion.version}): probability {opinion.probability:.3f}"
    return Reason(code="MODEL", detail=f"{detail}; strongest: {strongest}" if strongest else detail)


def _floored(decision: DecisionKind, imposed_kinds: set[str]) -> tuple[DecisionKind, list[Reason]]:
    """``decision`` raised to the floors that step-up and review entries impose."""
    floors: list[Reason] = []
    for floor, kind, code in _FLOORS:
        if kind in imposed_kinds and DECISION_RANK[decision] < DECISION_RANK[floor]:
            decision = floor
            floors.append(Reason(code=code, detail=f"a {kind} entry is in force"))
    return decision, floors


def _effect_capped(
    points: int, contributions: list[tuple[int, Reason]], evidence: Evidence, policy: DecisionPolicy
) -> int:
    """``points`` capped at ``review_at - 1`` when every contribution is a signal of a
    ``score``-effect rule: such a rule only adds to the score, it cannot impose friction
    alone. Any decide evidence (a decide-effect signal, a matching scoring rule) lifts the
    cap (docs/scoring.md, "Effect levels")."""
    if points < policy.review_at:
        return points
    weak = _score_effect_signals(evidence)
    if not weak or any(reason.signal_id not in weak for _, reason in contributions):
        return points
    return max(policy.review_at - 1, 0)


def _decision(
    txn: Transaction,
    rules_version: str,
    points: int,
    decision: DecisionKind,
    reasons: list[Reason],
    model_version: str | None = None,
) -> Decision:
    return Decision(
        event_id=txn.event_id, score=points, decision=decision,
        reasons=tuple(reasons), rules_version=rules_version, model_version=model_version,
    )  # fmt: skip


def _entries_decide(
    evidence: Evidence, kinds: set[tuple[str, str]]
) -> tuple[int, DecisionKind, list[Reason]] | None:
    """The decision when entries in force decide alone: a frozen account or a blocked
    entity, an allow-listed account, a limit exceeded."""
    if ("account", "freeze") in kinds:
        return 100, "reject", [Reason(code="ACCOUNT_FROZEN", detail="the account is frozen")]
    blocked = sorted(entity for entity, kind in kinds if kind == "block")
    if blocked:
        return 100, "reject", [
            Reason(code="ENTITY_BLOCKED", detail=f"blocked: {', '.join(blocked)}")
        ]  # fmt: skip
    if ("account", "allow") in kinds:
        return 0, "accept", [Reason(code="ALLOW_LISTED", detail="the account is trusted")]
    limit_reason = _limit_exceeded(evidence)
    if limit_reason is not None:
        return 100, "reject", [limit_reason]
    return None


def _limit_exceeded(evidence: Evidence) -> Reason | None:
    txn = evidence.transaction
    if txn.type not in OUTGOING:
        return None
    for entries in evidence.penalties.values():
        for penalty in entries:
            if penalty.kind != "limit":
                continue
            per_txn, daily = penalty.per_transaction_limit, penalty.daily_limit
            if per_txn is not None and txn.amount > per_txn:
                detail = f"{txn.amount} is over the limit of {per_txn} per transaction"
                return Reason(code="LIMIT_PER_TRANSACTION", detail=detail)
            if daily is not None and evidence.spent_today + txn.amount > daily:
                detail = (
                    f"{evidence.spent_today} spent today plus {txn.amount} is over the daily "
                    f"limit of {daily}"
                )
                return Reason(code="LIMIT_DAILY", detail=detail)
    return None


def cannot_judge(event_id: str, cause: str, detail: str, policy: DecisionPolicy) -> Decision:
    """-1: the engine has no basis for a score (state still recovering, say)."""
    return Decision(
        event_id=event_id,
        score=-1,
        decision=policy.unknown,
        reasons=(Reason(code=cause, detail=detail),),
    )
