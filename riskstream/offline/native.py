"""Replay on the native runtime (``native/``, Rust through PyO3): the same routing, rule
engine and scorer as :class:`~riskstream.offline.replay.Replayer`, tens of times faster.

The Python engine stays the reference. The native one takes the rule set as the Python
compiler resolved it (:func:`plan_of`) and computes the same values in the same order;
wherever it cannot be sure of that (an expression outside the CEL fast path, an
aggregate it does not model, a value beyond int64, a sum beyond Decimal's 28 digits),
it declines with :class:`NativeUnsupported` and the reference replays the file instead.
Lines its strict reader is not sure of are validated here, by the contract's own models,
and handed over as their projection. Differential tests hold the outputs byte for byte
to the reference's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from riskstream.agents.cep.compiler import CompiledRule, CompiledStep
from riskstream.agents.cep.engine import EngineLimits, make_signal, ttl_ms
from riskstream.agents.cep.expressions import _ip_prefix, project
from riskstream.agents.cep.runner import ACCOUNT_KEY
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.scoring import DecisionPolicy
from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.core import Replay, Unsupported
from riskstream.offline.jsonl import MAX_LINE_BYTES, BadLine
from riskstream.offline.replay import ReplayStats
from riskstream.streams.outputs import Signal


class NativeUnsupported(Exception):  # noqa: N818 - a signal to use the reference
    """The native runtime does not model this run; the reference engine replays it."""


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _step(step: CompiledStep) -> dict[str, Any]:
    return {
        "name": step.name,
        "when": step.when.source,
        "match": step.match.source if step.match else None,
        "times": step.times,
        "bit": step.bit,
    }


def _rule(rule: CompiledRule) -> dict[str, Any]:
    doc = rule.doc
    return {
        "id": doc.id,
        "version": doc.version,
        "active": doc.mode == "active",
        "entity": doc.entity,
        "ttl_ms": ttl_ms(doc),
        "pattern": doc.signal_pattern,
        "severity": doc.severity,
        "penalty": doc.penalty,
        "events": list(doc.events),
        "when": rule.when.source if rule.when else None,
        "window": {"type": rule.window_type, "size": rule.window_size, "hop": rule.window_hop}
        if doc.window
        else None,
        "aggregates": [
            {
                "name": agg.name,
                "fn": agg.spec.fn,
                "path": list(agg.path),
                "where": agg.where.source if agg.where else None,
                "bit": agg.bit,
                "of": list(agg.spec.of) if agg.spec.of else None,
                "horizon_days": int(agg.spec.horizon.total_seconds() // 86400)
                if agg.spec.horizon
                else 0,
            }
            for agg in rule.aggregates
        ],
        "condition": rule.condition.source if rule.condition else None,
        "steps": [_step(step) for step in rule.steps],
        "absent": _step(rule.absent) if rule.absent else None,
        "within_ms": _ms(doc.sequence.within.total_seconds()) if doc.sequence else 0,
        "horizon_ms": rule.horizon_ms,
        "baseline_days": rule.baseline_days,
        "unfiltered_bits": rule.unfiltered_bits,
    }


def rule_groups(center: RuleCenter) -> list[list[CompiledRule]]:
    """The live rules by key group as the runner routes them: the account's first."""
    groups = center.ruleset.key_groups
    others = [group for source, group in groups.items() if source != ACCOUNT_KEY]
    return [groups.get(ACCOUNT_KEY, []), *others]


def plan_of(
    center: RuleCenter, policy: DecisionPolicy, limits: EngineLimits | None = None
) -> bytes:
    """The rule set, scoring rules and policy as the native runtime reads them."""
    limits = limits or EngineLimits()
    groups = rule_groups(center)
    return orjson.dumps(
        {
            "groups": [
                {
                    "key": group[0].key.source if group else ACCOUNT_KEY,
                    "account": index == 0,
                    "rules": [_rule(rule) for rule in group],
                }
                for index, group in enumerate(groups)
            ],
            "min_horizon_ms": _ms(limits.min_horizon.total_seconds()),
            "max_entries": limits.max_entries,
            "score_rules": [
                {
                    "id": rule.doc.id,
                    "code": rule.doc.code,
                    "description": rule.doc.description,
                    "points": rule.doc.points,
                    "active": rule.doc.mode == "active",
                    "when": rule.when.source,
                }
                for rule in center.score_rules.values()
            ],
            "policy": {
                "review_at": policy.review_at,
                "challenge_at": policy.challenge_at,
                "reject_at": policy.reject_at,
                "unknown": policy.unknown,
            },
        }
    )


class NativeReplay:
    """One pass of the native engine and scorer over a file of events."""

    def __init__(self, center: RuleCenter, policy: DecisionPolicy | None = None) -> None:
        policy = policy or DecisionPolicy()
        try:
            self._core = Replay(plan_of(center, policy), _ip_prefix)
        except Unsupported as error:
            raise NativeUnsupported(str(error)) from None
        self._groups = rule_groups(center)
        self.stats = ReplayStats()

    def load(self, path: Path, max_bytes: int = MAX_LINE_BYTES) -> list[BadLine]:
        """Read every event of the file; the invalid lines, by number."""
        try:
            unsure = self._core.load(str(path), max_bytes)
        except ValueError as error:
            raise OSError(f"cannot read {path}: {error}") from None
        bad: list[BadLine] = []
        for line, raw in unsure:
            try:
                event = parse_event(raw, max_bytes=max_bytes)
            except InvalidEventError as error:
                bad.append(BadLine(line, error.rejection.reason, error.rejection.detail))
                continue
            projection = {"ms": event.occurred_ms, "fields": project(event)}
            try:
                self._core.add_projection(line, orjson.dumps(projection))
            except Unsupported as error:
                raise NativeUnsupported(f"line {line}: {error}") from None
        self._core.sort()
        return bad

    def __len__(self) -> int:
        return len(self._core)

    def run(self, count: int) -> tuple[bytes, list[Signal], list[Signal]]:
        """The next ``count`` events: their decision lines, signals and shadow signals."""
        started = time.perf_counter()
        try:
            decisions, signals, shadow = self._core.run(count)
        except Unsupported as error:
            raise NativeUnsupported(str(error)) from None
        dressed = [self._signal(item) for item in signals]
        dressed_shadow = [self._signal(item) for item in shadow]
        stats = self.stats
        stats.seconds += time.perf_counter() - started
        for signal in dressed:
            stats.signals_by_rule[signal.rule_id] += 1
        for signal in dressed_shadow:
            stats.shadow_by_rule[signal.rule_id] += 1
        counts = self._core.counts()
        stats.events = counts["events"]
        stats.transactions = counts["transactions"]
        stats.statuses.clear()
        stats.statuses.update(counts["statuses"])
        stats.decisions.clear()
        stats.decisions.update(counts["decisions"])
        return decisions, dressed, dressed_shadow

    def _signal(self, item: tuple[Any, ...]) -> Signal:
        group, rule, signal_id, entity_id, evidence, shown, trigger, detected_ms, _ = item
        doc = self._groups[group][rule].doc
        return make_signal(
            doc, entity_id, "", evidence, shown, trigger, detected_ms, signal_id=signal_id
        )
