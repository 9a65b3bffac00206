"""The rule runtime: one event and one entity's state in, signals out. No Kafka here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from riskstream.agents.cep.compiler import CompiledRule
from riskstream.agents.cep.expressions import cel_view, plain_view
from riskstream.agents.cep.sequences import matches
from riskstream.agents.cep.windows import aggregate, update_baselines, windows_for
from riskstream.streams.events import from_epoch_ms
from riskstream.streams.outputs import Signal, deterministic_id
from riskstream.streams.rule_model import RuleDoc
from riskstream.tables.entity_state import EntityState, Entry, Fired

Status = Literal["applied", "duplicate", "late"]
MAX_EVIDENCE = 50


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one event did: ``signals`` to publish (again), ``shadow`` only to count."""

    status: Status
    signals: list[Signal] = field(default_factory=list)
    shadow: list[Signal] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EngineLimits:
    max_entries: int = 5_000
    # Kept even when no rule needs it, so a duplicate is recognised for this long.
    min_horizon: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class _Group:
    """What ``process`` derives from a list of rules, once per list."""

    members: tuple[CompiledRule, ...]  # the list's rules when derived (lists can change)
    horizon_ms: int
    tags: frozenset[str]
    baseline_days: int
    stored: tuple[str, ...] | None  # the fields entries keep, sorted (None: all)


def _stored(rules: list[CompiledRule]) -> tuple[str, ...] | None:
    stored: set[str] = set()
    for rule in rules:
        if rule.stored is None:
            return None
        stored |= rule.stored
    return tuple(sorted(stored))


def ttl_ms(doc: RuleDoc) -> int:
    return int(doc.ttl.total_seconds() * 1000)


def make_signal(
    doc: RuleDoc,
    entity_key: str,
    window_key: str,
    evidence: tuple[str, ...],
    shown: dict[str, Any],
    trigger_event_id: str,
    detected_ms: int,
    signal_id: str | None = None,
) -> Signal:
    """A rule's signal on an entity's window (or sequence match), named by both."""
    return Signal(
        signal_id=signal_id
        or deterministic_id(doc.id, doc.version, doc.entity, entity_key, window_key),
        pattern=doc.signal_pattern,
        rule_id=doc.id,
        rule_version=doc.version,
        entity_type=doc.entity,
        entity_id=entity_key,
        severity=doc.severity,
        evidence=evidence,
        aggregates=shown,
        trigger_event_id=trigger_event_id,
        detected_at=from_epoch_ms(detected_ms),
        expires_at=from_epoch_ms(detected_ms + ttl_ms(doc)),
        **({"penalty": {"kind": doc.penalty}} if doc.penalty else {}),
    )


class RuleEngine:
    """Applies an event to an entity's state exactly once and evaluates the entity's rules."""

    def __init__(self, limits: EngineLimits | None = None, incremental: bool = True) -> None:
        self.limits = limits or EngineLimits()
        # Sliding windows of in-order events kept running (see ``running``); False
        # reads every window in full (the reference the running form is tested against).
        self.incremental = incremental
        self._limits_seen: EngineLimits | None = None
        self._min_horizon = 0
        # By the list's identity; its rules are compared too, as an identity can be reused.
        self._groups: dict[int, _Group] = {}

    def _group(self, rules: list[CompiledRule]) -> _Group:
        if self.limits is not self._limits_seen:
            self._limits_seen = self.limits
            self._min_horizon = int(self.limits.min_horizon.total_seconds() * 1000)
            self._groups.clear()
        group = self._groups.get(id(rules))
        # Tuples compare items by identity first, in C.
        if group is not None and group.members == tuple(rules):
            return group
        horizon = self._min_horizon
        for rule in rules:
            horizon = max(horizon, rule.horizon_ms)
        group = _Group(
            tuple(rules),
            horizon,
            frozenset(rule.tag for rule in rules),
            max((rule.baseline_days for rule in rules), default=0),
            _stored(rules),
        )
        if len(self._groups) > 64:  # rule sets replaced many times over
            self._groups.clear()
        self._groups[id(rules)] = group
        return group

    def process(
        self,
        state: EntityState,
        fields: dict[str, Any],
        rules: list[CompiledRule],
        entity_key: str,
        view: dict[str, Any] | None = None,
    ) -> Outcome:
        """Apply the event (``fields``, see ``project``) to ``state`` under ``rules``.

        ``view``: ``plain_view(fields)`` when the caller made it already (one per event
        for every entity it touches); None to let this call make it.
        """
        event_id = str(fields["event_id"])
        if event_id in state.seen:
            return Outcome("duplicate", self._redelivery(state, event_id, rules))
        ts_ms = int(fields["ts"] * 1000)
        group = self._group(rules)
        horizon = group.horizon_ms
        if state.watermark_ms >= 0 and ts_ms < state.watermark_ms - horizon:
            state.late_events += 1
            return Outcome("late")
        entity = {
            "idle_seconds": (ts_ms - state.last_seen_ms) / 1000
            if 0 <= state.last_seen_ms < ts_ms
            else 0.0,
            "events_seen": state.events_seen,
            "age_seconds": (ts_ms - state.first_seen_ms) / 1000
            if state.first_seen_ms >= 0
            else 0.0,
        }
        if view is None:
            view = plain_view(fields)
        plain = view is not None
        variables = {"event": view if view is not None else cel_view(fields), "entity": entity}
        entry_flags: dict[str, int] = {}
        for rule in rules:
            bits = rule.flags(variables, plain)
            if bits:
                entry_flags[rule.tag] = bits
        stored = group.stored
        kept, kept_view = fields, view
        if entry_flags and stored is not None:
            # Only what the rules read is kept: a busy merchant's record stays small. The
            # entry's view shows no more than its fields, as after a restart.
            kept = {name: fields[name] for name in stored if name in fields}
            if view is not None:
                kept_view = {name: view[name] for name in stored if name in view}
        entry = Entry(ts_ms, event_id, kept, entry_flags, view=kept_view)
        state.remember(event_id, ts_ms)
        state.watermark_ms = max(state.watermark_ms, ts_ms)
        # An event no rule takes only counts as activity; running windows take entries
        # in order only.
        if entry_flags and state.insert(entry) != len(state.entries) - 1:
            state.running.clear()
        state.events_seen += 1
        if state.first_seen_ms < 0 or ts_ms < state.first_seen_ms:
            state.first_seen_ms = ts_ms
        state.last_seen_ms = max(state.last_seen_ms, ts_ms)
        signals: list[Signal] = []
        shadow: list[Signal] = []
        for rule in rules:
            if rule.tag not in state.tags:
                self._refresh_flags(state, rule)
            if not entry_flags.get(rule.tag) and rule.absent is None:
                continue
            for signal in self._evaluate(state, rule, entry, variables, entity_key, plain):
                (signals if rule.doc.mode == "active" else shadow).append(signal)
            if rule.with_horizon:
                update_baselines(state, rule, entry)
        state.forget_rules_except(group.tags)
        state.evict(horizon, self.limits.max_entries, group.baseline_days)
        return Outcome("applied", signals, shadow)

    @staticmethod
    def _refresh_flags(state: EntityState, rule: CompiledRule) -> None:
        """Entries stored before this rule version existed get its match bits now."""
        tag = rule.tag
        if tag in state.tags:
            return
        prefix = f"{rule.id}@"
        for entry in state.entries:
            for old in [key for key in entry.flags if key.startswith(prefix) and key != tag]:
                del entry.flags[old]
            if tag not in entry.flags:
                bits = rule.flags({"event": cel_view(entry.fields), "entity": {}}, plain=False)
                if bits:
                    entry.flags[tag] = bits
        state.tags = [known for known in state.tags if not known.startswith(prefix)] + [tag]

    def _evaluate(
        self,
        state: EntityState,
        rule: CompiledRule,
        entry: Entry,
        variables: dict[str, Any],
        entity_key: str,
        plain: bool,
    ) -> list[Signal]:
        fired = (
            [record for record in state.fired if record.rule_id == rule.id] if state.fired else []
        )
        if rule.doc.window is not None:
            for window in windows_for(rule, state, entry, self.incremental):
                if self._suppressed(
                    fired, window.key, window.start_ms, window.end_ms, window.dedupe_by_key
                ):
                    continue
                values, shown = aggregate(rule, state, window, entry)
                assert rule.condition is not None
                context = {**variables, "agg": values}
                if rule.condition.test_plain(context) if plain else rule.condition.test(context):
                    return [
                        self._fire(
                            state,
                            rule,
                            entity_key,
                            window.key,
                            window.members,
                            shown,
                            entry,
                            window.start_ms,
                            window.end_ms,
                        )
                    ]
            return []
        for match in matches(rule, state, entry):
            if self._suppressed(fired, match.key, match.start_ms, match.end_ms, False):
                continue
            shown = {name: len(items) for name, items in match.by_step.items()}
            shown["span_seconds"] = (match.end_ms - match.start_ms) / 1000
            signal = self._fire(
                state,
                rule,
                entity_key,
                match.key,
                match.members,
                shown,
                entry,
                match.start_ms,
                match.end_ms,
            )
            return [signal]
        return []

    @staticmethod
    def _suppressed(fired: list[Fired], key: str, start_ms: int, end_ms: int, by_key: bool) -> bool:
        if not fired:
            return False
        if by_key:
            return any(record.window_key == key for record in fired)
        return any(
            record.window_key == key or (record.start_ms <= end_ms and start_ms <= record.end_ms)
            for record in fired
        )

    @staticmethod
    def _fire(
        state: EntityState,
        rule: CompiledRule,
        entity_key: str,
        window_key: str,
        members: Sequence[Entry],
        shown: dict[str, Any],
        emitted_by: Entry,
        start_ms: int,
        end_ms: int,
    ) -> Signal:
        members = list(members)
        last = members[-1] if members else emitted_by
        signal = make_signal(
            rule.doc,
            entity_key,
            window_key,
            tuple(item.event_id for item in members[-MAX_EVIDENCE:]),
            shown,
            last.event_id,
            last.ts_ms,
        )
        doc = rule.doc
        state.fired.append(
            Fired(doc.id, signal.signal_id, emitted_by.event_id, start_ms, end_ms, window_key,
                  signal.model_dump(mode="json"))
        )  # fmt: skip
        return signal

    @staticmethod
    def _redelivery(state: EntityState, event_id: str, rules: list[CompiledRule]) -> list[Signal]:
        active = {rule.id for rule in rules if rule.doc.mode == "active"}
        return [
            Signal.model_validate(record.payload)
            for record in state.fired
            if record.emitted_by == event_id and record.rule_id in active
        ]
