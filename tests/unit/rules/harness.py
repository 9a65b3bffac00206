"""Run rules over hand-made events: the shared harness of the rule tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from riskstream.agents.cep.compiler import RuleSet
from riskstream.agents.cep.runner import LocalRunner
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


def run(rules: RuleSet, events: Iterable[Event]) -> list[Signal]:
    runner = LocalRunner(rules)
    return [signal for event in events for signal in runner.signals(event)]


def fired(rules: RuleSet, events: Iterable[Event], rule_id: str | None = None) -> list[Signal]:
    return [s for s in run(rules, events) if rule_id is None or s.rule_id == rule_id]


def with_fields(**fields: Any) -> dict[str, Any]:
    return fields
