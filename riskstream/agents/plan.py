"""The rule set as the native core reads it: the plan, one JSON document.

The Python compiler (``agents.cep.compiler``) resolves each rule document's bits,
horizons, key groups and the fields its entries keep; the plan carries them with every
duration in milliseconds and every expression as its CEL source, which the core
compiles itself.
"""

from __future__ import annotations

from typing import Any

import orjson

from riskstream.agents.cep.compiler import (
    ACCOUNT_KEY,
    CompiledRule,
    CompiledStep,
    EngineLimits,
    RuleSet,
)
from riskstream.agents.cep.compiler import group_stored as _stored
from riskstream.agents.score_rules import CompiledScoreRule
from riskstream.agents.scoring import DecisionPolicy
from riskstream.agents.signals import ttl_ms


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
        "effect": doc.effect,
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


def rule_groups(ruleset: RuleSet) -> list[list[CompiledRule]]:
    """The live rules by key group as the runner routes them: the account's first."""
    groups = ruleset.key_groups
    others = [group for source, group in groups.items() if source != ACCOUNT_KEY]
    return [groups.get(ACCOUNT_KEY, []), *others]


def plan_of(
    ruleset: RuleSet,
    score_rules: list[CompiledScoreRule] | None = None,
    policy: DecisionPolicy | None = None,
    limits: EngineLimits | None = None,
) -> bytes:
    """The rule set, scoring rules and policy as the native core reads them."""
    limits = limits or EngineLimits()
    policy = policy or DecisionPolicy()
    groups = rule_groups(ruleset)
    return orjson.dumps(
        {
            "groups": [
                {
                    "key": group[0].key.source if group else ACCOUNT_KEY,
                    "account": index == 0,
                    "stored": _stored(group),
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
                    "when": rule.doc.when,
                }
                for rule in score_rules or []
            ],
            "policy": {
                "review_at": policy.review_at,
                "challenge_at": policy.challenge_at,
                "reject_at": policy.reject_at,
                "unknown": policy.unknown,
            },
        }
    )
