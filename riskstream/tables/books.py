"""Replicas every worker keeps in memory: risk profiles (active signals per entity) and
the penalty center's entries. Both are rebuilt from their topics at start.

Why not a Faust GlobalTable: a global table is the right shape (every worker needs every
profile, since one transaction touches its account, device, IP, counterparty and card,
which live on different partitions; routing one score request to five owners would cost
five hops), but faust's global tables have lost updates on recovery (faust-streaming
#212; robinhood #541, #716). Reading the topic on every worker gives the same shape with
nothing to recover: the topic is the state.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from riskstream.streams.codec import loads
from riskstream.streams.events import Feedback, to_epoch_ms
from riskstream.streams.outputs import Signal
from riskstream.streams.scoring_model import Penalty

EntityKey = tuple[str, str]  # (entity type, entity id)


@dataclass(frozen=True, slots=True)
class ActiveSignal:
    signal_id: str
    pattern: str
    rule_id: str
    severity: int
    detected_ms: int
    expires_ms: int
    penalty: dict[str, Any] | None
    trigger_event_id: str = ""
    rule_version: int = 0
    # The rule's effect level: "score" signals only add to the score (agents/scoring).
    effect: str = "decide"

    @classmethod
    def of(cls, signal: Signal) -> ActiveSignal:
        return cls(
            signal_id=signal.signal_id,
            pattern=signal.pattern,
            rule_id=signal.rule_id,
            severity=signal.severity,
            detected_ms=to_epoch_ms(signal.detected_at),
            expires_ms=to_epoch_ms(signal.expires_at),
            penalty=(signal.model_extra or {}).get("penalty"),
            trigger_event_id=signal.trigger_event_id,
            rule_version=signal.rule_version,
            effect=signal.effect or "decide",
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "signal_id": self.signal_id,
            "pattern": self.pattern,
            "rule_id": self.rule_id,
            "severity": self.severity,
            "detected_ms": self.detected_ms,
            "expires_ms": self.expires_ms,
            **({"penalty": self.penalty} if self.penalty else {}),
            **({"effect": self.effect} if self.effect != "decide" else {}),
        }


class ProfileBook:
    """Active signals by entity and rule, from the signals topic; expired ones drop out,
    and so do those whose triggering transaction was since judged legitimate.

    A rule that keeps firing on one entity (a burst of velocity windows, say) is kept to
    its ``keep_per_rule`` latest signals: enough to show the history, bounded however
    often it fires, and the score counts one rule once anyway.
    """

    def __init__(self, keep_per_rule: int = 8, keep_verdicts: int = 200_000) -> None:
        self._by_entity: dict[EntityKey, dict[str, dict[str, ActiveSignal]]] = defaultdict(dict)
        self.keep_per_rule = keep_per_rule
        self.applied = 0
        # Transaction id -> (verdict time, label), the latest verdict on it; the newest kept.
        self._verdicts: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._keep_verdicts = keep_verdicts

    def apply_verdict(self, target_event_id: str, label: str, occurred_ms: int) -> None:
        """A feedback event: a ``legit`` verdict on a signal's triggering transaction is
        the customer or an analyst clearing that alert, so the signal stops counting; a
        later ``fraud`` verdict on it brings the signal back."""
        known = self._verdicts.get(target_event_id)
        if known is not None and known[0] > occurred_ms:
            return
        self._verdicts[target_event_id] = (occurred_ms, label)
        self._verdicts.move_to_end(target_event_id)
        if len(self._verdicts) > self._keep_verdicts:
            self._verdicts.popitem(last=False)

    def verdict(self, transaction_id: str) -> str | None:
        """The latest verdict on a transaction (``fraud`` or ``legit``), None when none."""
        known = self._verdicts.get(transaction_id)
        return None if known is None else known[1]

    def apply_feedback(self, feedback: Feedback) -> None:
        self.apply_verdict(feedback.target_event_id, feedback.label, feedback.occurred_ms)

    def apply_feedback_record(self, record: Any) -> Feedback | None:
        """A record of the feedback topic, and the feedback event it held; one that is no
        contract-v1 feedback event (the ingest dead-letters it) is skipped (None)."""
        try:
            feedback = Feedback.model_validate(loads(record.value))
        except (ValueError, TypeError):  # bad JSON or model (both ValueError), no value
            return None
        self.apply_feedback(feedback)
        return feedback

    def _cleared(self, signal: ActiveSignal) -> bool:
        verdict = self._verdicts.get(signal.trigger_event_id)
        return verdict is not None and verdict[1] == "legit"

    def apply_signal(self, body: dict[str, Any]) -> None:
        detected = datetime.fromisoformat(body["detected_at"])
        expires = datetime.fromisoformat(body["expires_at"])
        signal = ActiveSignal(
            signal_id=body["signal_id"],
            pattern=body["pattern"],
            rule_id=body["rule_id"],
            severity=int(body["severity"]),
            detected_ms=to_epoch_ms(detected),
            expires_ms=to_epoch_ms(expires),
            penalty=body.get("penalty"),
            trigger_event_id=str(body.get("trigger_event_id", "")),
            rule_version=int(body.get("rule_version", 0)),
            # Anything but "score" is the default, decide: a signal never weakens by accident.
            effect="score" if body.get("effect") == "score" else "decide",
        )
        self.add(body["entity_type"], body["entity_id"], signal)

    def add(self, entity_type: str, entity_id: str, signal: ActiveSignal) -> None:
        by_rule = self._by_entity[(entity_type, entity_id)]
        kept = by_rule.setdefault(signal.rule_id, {})
        kept[signal.signal_id] = signal
        if len(kept) > self.keep_per_rule:
            oldest = min(kept.values(), key=lambda s: (s.detected_ms, s.signal_id))
            del kept[oldest.signal_id]
        self.applied += 1

    def apply_record(self, record: Any) -> None:
        if record.value:
            self.apply_signal(loads(record.value))

    def active(self, entity_type: str, entity_id: str, now_ms: int) -> list[ActiveSignal]:
        key = (entity_type, entity_id)
        by_rule = self._by_entity.get(key)
        if not by_rule:
            return []
        live: list[ActiveSignal] = []
        for rule_id, kept in list(by_rule.items()):
            alive = [signal for signal in kept.values() if signal.expires_ms > now_ms]
            if len(alive) != len(kept):
                if alive:
                    by_rule[rule_id] = {signal.signal_id: signal for signal in alive}
                else:
                    del by_rule[rule_id]
            live += [signal for signal in alive if not self._cleared(signal)]
        if not by_rule:
            del self._by_entity[key]
        return sorted(live, key=lambda signal: (-signal.severity, signal.signal_id))

    def __len__(self) -> int:
        return len(self._by_entity)


class PenaltyBook:
    """The penalty center's entries by id, from its compacted topic."""

    def __init__(self) -> None:
        self._by_id: dict[str, Penalty] = {}
        self._by_entity: dict[EntityKey, set[str]] = defaultdict(set)

    def put(self, penalty: Penalty) -> None:
        self.remove(penalty.penalty_id)
        self._by_id[penalty.penalty_id] = penalty
        self._by_entity[(penalty.entity_type, penalty.entity_id)].add(penalty.penalty_id)

    def remove(self, penalty_id: str) -> Penalty | None:
        old = self._by_id.pop(penalty_id, None)
        if old is not None:
            self._by_entity[(old.entity_type, old.entity_id)].discard(penalty_id)
        return old

    def apply_record(self, record: Any) -> None:
        key = record.key.decode() if record.key else ""
        if record.value is None:
            self.remove(key)
        else:
            self.put(Penalty.model_validate(loads(record.value)))

    def for_entity(self, entity_type: str, entity_id: str, now: datetime) -> list[Penalty]:
        ids = self._by_entity.get((entity_type, entity_id))
        if not ids:  # the usual case: nothing to sort
            return []
        return sorted(
            (self._by_id[pid] for pid in ids if self._by_id[pid].active_at(now)),
            key=lambda penalty: penalty.penalty_id,
        )

    def get(self, penalty_id: str) -> Penalty | None:
        return self._by_id.get(penalty_id)

    def all_active(self, now: datetime) -> list[Penalty]:
        return sorted(
            (penalty for penalty in self._by_id.values() if penalty.active_at(now)),
            key=lambda penalty: penalty.penalty_id,
        )
