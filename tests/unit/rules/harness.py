"""Run rules over hand-made events on the core: the shared harness of the rule tests.

:class:`Runner` routes each event as the live worker does, on the same
:class:`~riskstream.core.LiveEngine`: first to its account's record, then to the record of
every other key group that takes it; the records live in a dict, as a table holds them,
and each event is a batch of its own. Events are applied in the order given (arrival
order), not sorted by time as a replay sorts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from riskstream.agents.cep.compiler import ACCOUNT_KEY, RuleSet
from riskstream.agents.live_rules import CoreSignal, LiveRules, Snapshot, projection
from riskstream.rules.loader import default_pack, parse_rule
from riskstream.streams.events import Event
from riskstream.streams.outputs import Signal


def rules_from_yaml(text: str) -> RuleSet:
    data = yaml.safe_load(text)
    items = data if isinstance(data, list) else [data]
    return RuleSet.of(parse_rule(item, "test") for item in items)


def pack_rule(rule_id: str) -> RuleSet:
    """One rule of the shipped pack, alone."""
    return RuleSet.of(doc for doc in default_pack() if doc.id == rule_id)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one event did to one entity: ``signals`` to publish (again), ``shadow`` only
    to count; ``error``: why the core could not evaluate it."""

    status: str
    signals: list[Signal]
    shadow: list[Signal]
    error: str | None = None


class Runner:
    """The live worker's routing on the core, records in memory by (key expression, key)."""

    def __init__(self, rules: RuleSet, cache_bytes: int = 0) -> None:
        self.rules = rules  # a new rule set takes effect at the next event, as live
        self.live = LiveRules(cache_bytes)
        self.records: dict[tuple[str, str], bytes] = {}
        self.statuses: Counter[str] = Counter()

    def process(self, event: Event) -> list[Outcome]:
        """The event's outcome at its account, then at each other entity it reaches."""
        _, core_event = projection(event)
        snapshot = self.live.snapshot(self.rules)
        first = self._apply(snapshot, 0, ACCOUNT_KEY, event.account_id, core_event)
        self.statuses[first.status] += 1
        outcomes = [first]
        try:
            routes = snapshot.engine.routes(core_event)
        except ValueError:  # a key expression failed: no other entity
            routes = []
        for group, key in routes:
            source = snapshot.groups[group][0].key.source
            outcomes.append(self._apply(snapshot, group, source, key, core_event))
        return outcomes

    def signals(self, event: Event) -> list[Signal]:
        return [signal for outcome in self.process(event) for signal in outcome.signals]

    def record(self, source: str, key: str) -> bytes | None:
        """The stored record of an entity: its group's key expression and its key."""
        return self.records.get((source, key))

    def _apply(
        self, snapshot: Snapshot, group: int, source: str, key: str, core_event: bytes
    ) -> Outcome:
        stored = snapshot.current(group, self.records.get((source, key)))
        [(record, outcomes, unreadable, _)] = snapshot.engine.apply(
            [(group, key, stored, [core_event])]
        )
        assert unreadable is None, unreadable
        self.records[(source, key)] = record
        [(status, signals, shadow, error)] = outcomes
        return Outcome(status, self._dressed(snapshot, signals), self._dressed(snapshot, shadow),
                       error)  # fmt: skip

    @staticmethod
    def _dressed(snapshot: Snapshot, items: list[CoreSignal]) -> list[Signal]:
        return [snapshot.signal(item) for item in items]


def run(rules: RuleSet, events: Iterable[Event]) -> list[Signal]:
    runner = Runner(rules)
    return [signal for event in events for signal in runner.signals(event)]


def fired(rules: RuleSet, events: Iterable[Event], rule_id: str | None = None) -> list[Signal]:
    return [s for s in run(rules, events) if rule_id is None or s.rule_id == rule_id]


def with_fields(**fields: Any) -> dict[str, Any]:
    return fields
