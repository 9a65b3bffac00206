"""Replay: the live pipeline's functional core over a file of events, in event-time order.

The rule engine routes and evaluates each event exactly as the workers do (the same
:class:`LocalRunner` routing, the same :class:`RuleEngine`); the scorer's core answers
every transaction from what was known just before it: the signals published so far
(as the worker's profiles hold them), the account's outgoing total that day, and the
scoring rules. Time is event time throughout, so the output depends only on the input.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from riskstream.agents.cep.runner import ACCOUNT_KEY, LocalRunner
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.scoring import DecisionPolicy, gather, is_spend, score
from riskstream.offline.jsonl import NumberedEvent
from riskstream.streams.events import Event, Feedback, Transaction
from riskstream.streams.outputs import Decision, Signal
from riskstream.tables.books import ActiveSignal, PenaltyBook, ProfileBook
from riskstream.tables.entity_state import EntityState
from riskstream.tables.spend import record_spend, spent_on


def decision_line(decision: Decision) -> dict[str, Any]:
    """A decision as replay writes it: ``{event_id, score, decision, reasons}``."""
    return {
        "event_id": decision.event_id,
        "score": decision.score,
        "decision": decision.decision,
        "reasons": [reason.model_dump(exclude_none=True) for reason in decision.reasons],
    }


@dataclass(frozen=True, slots=True)
class Step:
    """What one event did: the decision taken before it (transactions), its signals."""

    event: Event
    decision: Decision | None
    signals: list[Signal]
    shadow: list[Signal]


@dataclass(slots=True)
class ReplayStats:
    events: int = 0
    transactions: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    signals_by_rule: Counter[str] = field(default_factory=Counter)
    shadow_by_rule: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class Replayer:
    """One pass of the engine and the scorer over events, state in memory."""

    def __init__(self, center: RuleCenter, policy: DecisionPolicy | None = None) -> None:
        self.center = center
        self.policy = policy or DecisionPolicy()
        self.runner = LocalRunner(center.ruleset)
        self.profiles = ProfileBook()
        self.penalties = PenaltyBook()  # operator entries are not part of the events
        self.decided: dict[str, Decision] = {}
        self.emitted: set[str] = set()
        self.stats = ReplayStats()
        self._score_rules = list(center.score_rules.values())
        self._rules_version = center.version  # fixed for the replay; costly to derive

    def step(self, event: Event) -> Step:
        stats = self.stats
        stats.events += 1
        outcomes = self.runner.process(event)
        # As the live scorer: from the profiles before the transaction, plus what it
        # fires itself on its account's rules (the scorer evaluates those on a copy of
        # the account's state; here the state is simply updated first).
        decision = (
            self._decide(event, outcomes[0].signals) if isinstance(event, Transaction) else None
        )
        # A repeated event makes the engine send its signals again (at-least-once on the
        # wire); a file of signals holds each once.
        signals = self._first_time([s for outcome in outcomes for s in outcome.signals])
        shadow = self._first_time([s for outcome in outcomes for s in outcome.shadow])
        stats.statuses[outcomes[0].status] += 1
        if outcomes[0].status == "applied" and is_spend(event):
            assert isinstance(event, Transaction)
            record_spend(self._account(event.account_id), event.occurred_ms, event.amount)
        if isinstance(event, Feedback):
            self.profiles.apply_feedback(event)
        for signal in signals:
            self.profiles.add(signal.entity_type, signal.entity_id, ActiveSignal.of(signal))
            stats.signals_by_rule[signal.rule_id] += 1
        for signal in shadow:
            stats.shadow_by_rule[signal.rule_id] += 1
        return Step(event, decision, signals, shadow)

    def _account(self, account_id: str) -> EntityState:
        return self.runner.states[(ACCOUNT_KEY, account_id)]  # made by runner.process

    def _first_time(self, signals: list[Signal]) -> list[Signal]:
        if not signals:
            return signals
        fresh = [signal for signal in signals if signal.signal_id not in self.emitted]
        self.emitted.update(signal.signal_id for signal in fresh)
        return fresh

    def _decide(self, txn: Transaction, own: list[Signal]) -> Decision:
        self.stats.transactions += 1
        remembered = self.decided.get(txn.event_id)
        if remembered is not None:  # the same event id always gets the same answer
            return remembered
        evidence = gather(
            txn, self.profiles, self.penalties, txn.occurred_at,
            spent_on(self._account(txn.account_id), txn.occurred_ms), own,
        )  # fmt: skip
        decision = score(evidence, self._score_rules, self.policy, self._rules_version)
        self.decided[txn.event_id] = decision
        self.stats.decisions[decision.decision] += 1
        return decision

    def run(
        self,
        events: Iterable[NumberedEvent],
        on_step: Callable[[Step], None] | None = None,
    ) -> ReplayStats:
        """Replay ``events`` (already in event-time order); ``on_step`` sees each step."""
        started = time.perf_counter()
        for item in events:
            step = self.step(item.event)
            if on_step is not None:
                on_step(step)
        self.stats.seconds += time.perf_counter() - started
        return self.stats
