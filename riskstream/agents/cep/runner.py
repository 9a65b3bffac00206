"""Runs a rule set over events with in-memory state: tests, replay, backtests.

It routes each event exactly as the live pipeline does: the account-keyed rules see it
under its account, every other key group under that group's key value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from riskstream.agents.cep.compiler import CompiledRule, RuleSet
from riskstream.agents.cep.engine import Outcome, RuleEngine
from riskstream.agents.cep.expressions import (
    EVALUATION_ERRORS,
    Expression,
    cel_view,
    plain_view,
    project,
)
from riskstream.streams.events import Event
from riskstream.streams.outputs import Signal
from riskstream.tables.entity_state import EntityState

ACCOUNT_KEY = "event.account_id"
_KEY_ERRORS = EVALUATION_ERRORS


def key_value(expression: Expression, fields: dict[str, Any]) -> str | None:
    """The entity key of an event under a key expression; None when it has none."""
    return _key_in_view(expression, {"event": cel_view(fields)})


def _key_in_view(expression: Expression, variables: dict[str, Any]) -> str | None:
    try:
        value = expression.evaluate(variables)
    except _KEY_ERRORS:
        return None
    if value is None or value == "" or isinstance(value, dict | list):
        return None
    return str(value)


def route(
    rules: RuleSet, fields: dict[str, Any], view: dict[str, Any] | None = None
) -> list[tuple[str, str, list[CompiledRule]]]:
    """(key expression, key value, rules) for every non-account key group taking the event.

    The account group is not routed: every event meets its account's state anyway,
    which is where duplicates are first recognised. ``view``: ``cel_view(fields)`` if
    the caller has it.
    """
    routes = []
    variables: dict[str, Any] | None = None  # one view for every group's key
    for source, group in rules.key_groups.items():
        if source == ACCOUNT_KEY or not any(rule.takes(fields) for rule in group):
            continue
        if variables is None:
            try:
                variables = {"event": view if view is not None else cel_view(fields)}
            except _KEY_ERRORS:  # as key_value: no key for any group
                variables = {}
        value = _key_in_view(group[0].key, variables) if variables else None
        if value is not None:
            routes.append((source, value, group))
    return routes


@dataclass
class LocalRunner:
    """The live pipeline's routing with in-memory state."""

    rules: RuleSet
    engine: RuleEngine = field(default_factory=RuleEngine)
    states: dict[tuple[str, str], EntityState] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)

    def process(self, event: Event) -> list[Outcome]:
        fields = project(event)
        view = plain_view(fields)
        account_rules = self.rules.key_groups.get(ACCOUNT_KEY, [])
        account = self.states.setdefault((ACCOUNT_KEY, event.account_id), EntityState())
        first = self.engine.process(account, fields, account_rules, event.account_id, view)
        self.statuses[first.status] += 1
        outcomes = [first]
        # Too late for the account's windows is not too late for a merchant's week.
        for source, value, group in route(self.rules, fields, view):
            state = self.states.setdefault((source, value), EntityState())
            outcomes.append(self.engine.process(state, fields, group, value, view))
        return outcomes

    def signals(self, event: Event) -> list[Signal]:
        return [signal for outcome in self.process(event) for signal in outcome.signals]
