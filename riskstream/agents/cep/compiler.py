"""Rule documents compiled for the core, and the set of rules in force.

The compiler checks what the rule model cannot (events, references between aggregates
and steps, every expression through the ``cel`` package) and resolves what the plan
(:mod:`riskstream.agents.plan`) hands the core: the match bits of aggregates and steps,
each rule's horizon, the key groups and the event fields stored entries keep.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from riskstream.agents.cep.expressions import Expression, ExpressionError, compile_expression
from riskstream.streams.events import ACCOUNT_EVENT_TYPES, FEEDBACK_TYPES, TRANSACTION_TYPES
from riskstream.streams.rule_model import AggregateSpec, RuleDoc

# The key of the account group: every event meets its account's record first.
ACCOUNT_KEY = "event.account_id"
KINDS = {"transaction", "account_event", "feedback"}
KNOWN_TYPES = TRANSACTION_TYPES | ACCOUNT_EVENT_TYPES | FEEDBACK_TYPES
# A count window has no time bound of its own; it reaches this far back at most.
COUNT_WINDOW_REACH = timedelta(days=1)
_AGG_REFERENCE = re.compile(r"\bagg\.([A-Za-z_][A-Za-z0-9_]*)")
_STEP_REFERENCE = re.compile(r"\bsteps\.([A-Za-z_][A-Za-z0-9_]*)")
_STEP_FIELD = re.compile(r"\bsteps\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)")
_STEP_WHOLE = re.compile(r"\bsteps\b(?!\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_])")


def step_fields(match: str | None) -> dict[str, frozenset[str]] | None:
    """The fields a step's ``match`` reads of each earlier step; None when it uses a
    step (or ``steps``) as a whole, so that every field must be there."""
    if match is None:
        return {}
    if _STEP_WHOLE.search(match):
        return None
    fields: dict[str, set[str]] = {}
    for step, name in _STEP_FIELD.findall(match):
        fields.setdefault(step, set()).add(name)
    return {step: frozenset(names) for step, names in fields.items()}


class RuleError(ValueError):
    """A rule document that cannot be put in force; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """What the core keeps of an entity whatever its rules."""

    # At most this many entries per entity (None: no cap, every event in the horizon
    # counts; memory is the state cache's, and records live in RocksDB).
    max_entries: int | None = None
    # Kept even when no rule needs it, so a duplicate is recognised for this long.
    min_horizon: timedelta = timedelta(minutes=30)


def _ms(value: timedelta) -> int:
    return int(value.total_seconds() * 1000)


@dataclass(frozen=True, slots=True)
class CompiledAggregate:
    name: str
    spec: AggregateSpec
    where: Expression | None
    bit: int
    path: tuple[str, ...] = ()  # ``spec.field`` split at the dots


@dataclass(frozen=True, slots=True)
class CompiledStep:
    name: str
    when: Expression
    match: Expression | None
    times: int
    bit: int
    # What ``match`` reads of the earlier steps (None: whole steps): stored entries keep
    # those fields.
    reads_of_steps: dict[str, frozenset[str]] | None = None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    doc: RuleDoc
    key: Expression
    when: Expression | None
    condition: Expression | None
    aggregates: tuple[CompiledAggregate, ...]
    steps: tuple[CompiledStep, ...]
    absent: CompiledStep | None
    horizon_ms: int
    baseline_days: int
    unfiltered_bits: int = 0  # bit 0 and the bits of aggregates without one
    window_type: str = ""  # doc.window.type ("" for a sequence)
    window_size: int = 0  # in ms, or in events for a count window
    window_hop: int = 0  # in ms: the hop, the size for tumbling (0: none)
    # The event fields the rule reads of stored entries (None: every field); see
    # ``stored_fields``.
    stored: frozenset[str] | None = None

    @property
    def id(self) -> str:
        return self.doc.id


# Stored whatever the rules read: what a rule's ``events`` are matched against (an entry
# keeps its event id and time anyway).
ALWAYS_STORED = frozenset({"type", "kind"})


def stored_fields(
    expressions: Iterable[Expression | None],
    aggregates: Iterable[CompiledAggregate],
    steps: Iterable[CompiledStep],
) -> frozenset[str] | None:
    """The event fields read by a rule's expressions, aggregates and step matches: what
    its entries must keep. None when an expression reads the event as a whole."""
    names = set(ALWAYS_STORED)
    for expression in expressions:
        if expression is None or "event" not in expression.reads:
            continue
        fields = expression.reads["event"]
        if fields is None:
            return None
        names |= fields
    for step in steps:
        if step.reads_of_steps is None:
            return None
        for fields in step.reads_of_steps.values():
            names |= fields
    names |= {agg.path[0] for agg in aggregates if agg.spec.field}
    return frozenset(names)


def group_stored(rules: list[CompiledRule]) -> tuple[str, ...] | None:
    """The event fields a key group's entries keep, sorted: what any of its rules reads
    of a stored entry (None: every field)."""
    stored: set[str] = set()
    for rule in rules:
        if rule.stored is None:
            return None
        stored |= rule.stored
    return tuple(sorted(stored))


def compile_rule(doc: RuleDoc) -> CompiledRule:
    """Compile every expression once and check what pydantic cannot see."""
    try:
        return _compile(doc)
    except ExpressionError as error:
        raise RuleError(f"rule {doc.id} v{doc.version}: {error}") from None


def _compile(doc: RuleDoc) -> CompiledRule:
    where = f"rule {doc.id} v{doc.version}"
    unknown = [name for name in doc.events if name not in KNOWN_TYPES | KINDS | {"*"}]
    if unknown:
        raise RuleError(f"{where}: events {unknown} are not event types or kinds")
    bit = 2
    aggregates = []
    for name, spec in doc.aggregates.items():
        expression = (
            compile_expression(spec.where, f"aggregate {name}.where") if spec.where else None
        )
        path = tuple(spec.field.split(".")) if spec.field else ("",)
        aggregates.append(CompiledAggregate(name, spec, expression, bit, path))
        bit <<= 1
    steps: list[CompiledStep] = []
    absent = None
    if doc.sequence is not None:
        earlier: list[str] = []
        absent_spec = doc.sequence.absent
        for step_spec in (*doc.sequence.steps, *([absent_spec] if absent_spec else [])):
            if _STEP_REFERENCE.search(step_spec.when):
                raise RuleError(
                    f"{where}: step {step_spec.name}: when tests the event alone; "
                    "refer to other steps in match"
                )
            if step_spec.match:
                unknown_steps = set(_STEP_REFERENCE.findall(step_spec.match)) - set(earlier)
                if unknown_steps:
                    raise RuleError(
                        f"{where}: step {step_spec.name}: match refers to "
                        f"{sorted(unknown_steps)}, not an earlier step"
                    )
            step = CompiledStep(
                step_spec.name,
                compile_expression(step_spec.when, f"step {step_spec.name}.when"),
                compile_expression(step_spec.match, f"step {step_spec.name}.match")
                if step_spec.match
                else None,
                step_spec.times,
                bit,
                step_fields(step_spec.match),
            )
            bit <<= 1
            if absent_spec is step_spec:
                absent = step
            else:
                steps.append(step)
            earlier.append(step_spec.name)
    condition = None
    if doc.condition is not None:
        unknown_aggs = set(_AGG_REFERENCE.findall(doc.condition)) - set(doc.aggregates)
        unknown_aggs -= {f"{name}_days" for name in doc.aggregates}
        if unknown_aggs:
            raise RuleError(f"{where}: condition uses undefined aggregates {sorted(unknown_aggs)}")
        condition = compile_expression(doc.condition, "condition")
    if doc.window is not None:
        size = doc.window.size
        if isinstance(size, timedelta):
            reach = size
        else:  # the last ``size`` events; one event needs no history at all
            reach = COUNT_WINDOW_REACH if size > 1 else timedelta(0)
    else:
        assert doc.sequence is not None
        reach = doc.sequence.within * (2 if doc.sequence.absent else 1)
    all_steps = (*steps, *([absent] if absent else []))
    key = compile_expression(doc.key, "key")
    when = compile_expression(doc.when, "when") if doc.when else None
    # Not the key nor the condition: they read the event being applied, never a stored one.
    expressions = [when, *(agg.where for agg in aggregates)]
    expressions += [part for step in all_steps for part in (step.when, step.match)]
    baseline_days = max(
        (
            int(spec.horizon.total_seconds() // 86400)
            for spec in doc.aggregates.values()
            if spec.horizon is not None
        ),
        default=0,
    )
    return CompiledRule(
        doc=doc,
        key=key,
        when=when,
        condition=condition,
        aggregates=tuple(aggregates),
        steps=tuple(steps),
        absent=absent,
        horizon_ms=_ms(reach + doc.lateness),
        baseline_days=baseline_days,
        unfiltered_bits=functools.reduce(
            operator.or_, (agg.bit for agg in aggregates if agg.where is None), 1
        ),
        stored=stored_fields(expressions, aggregates, all_steps),
        **_window_facts(doc),
    )  # fmt: skip


def _window_facts(doc: RuleDoc) -> dict[str, Any]:
    window = doc.window
    if window is None:
        return {}
    if isinstance(window.size, int):
        return {"window_type": window.type, "window_size": window.size}
    size = _ms(window.size)
    hop = _ms(window.hop or window.size) if window.type == "hopping" else size
    return {"window_type": window.type, "window_size": size, "window_hop": hop}


@dataclass(frozen=True)
class RuleSet:
    """The rules in force: immutable; a change makes a new set."""

    rules: dict[str, CompiledRule] = field(default_factory=dict)

    @classmethod
    def of(cls, docs: Iterable[RuleDoc]) -> RuleSet:
        return cls({doc.id: compile_rule(doc) for doc in docs})

    @cached_property
    def version(self) -> str:
        """A short digest of every rule id and version in force."""
        parts = sorted(
            f"{rule.id}@{rule.doc.version}:{rule.doc.mode}" for rule in self.rules.values()
        )
        return hashlib.blake2b("|".join(parts).encode(), digest_size=6).hexdigest()

    def live(self) -> list[CompiledRule]:
        return [rule for rule in self.rules.values() if rule.doc.mode != "disabled"]

    @cached_property
    def key_groups(self) -> dict[str, list[CompiledRule]]:
        """Live rules by key expression: each group shares one entity record per key value."""
        groups: dict[str, list[CompiledRule]] = {}
        for rule in sorted(self.live(), key=lambda item: item.id):
            groups.setdefault(rule.key.source.strip(), []).append(rule)
        return groups

    def with_doc(self, doc: RuleDoc) -> RuleSet:
        return RuleSet({**self.rules, doc.id: compile_rule(doc)})

    def without(self, rule_id: str) -> RuleSet:
        return RuleSet({key: rule for key, rule in self.rules.items() if key != rule_id})
