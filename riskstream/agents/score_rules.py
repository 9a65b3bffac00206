"""Scoring rules compiled for the scorer: a CEL ``when`` and its points.

The condition is the core's (``riskstream.core.Condition``), tested in one
``CelContext`` per decision that converts the evidence once: the same CEL that runs the
detection rules and replay's scorer. ``agents/scoring.score`` asks
:func:`matching_rules` which of them hold."""

from __future__ import annotations

import time
from dataclasses import dataclass

from riskstream.agents.cep.compiler import RuleError
from riskstream.agents.cep.expressions import compile_expression
from riskstream.core import CelContext, Condition
from riskstream.streams.scoring_model import ScoreRuleDoc


@dataclass(frozen=True, slots=True)
class CompiledScoreRule:
    doc: ScoreRuleDoc
    when: Condition


def compile_score_rule(doc: ScoreRuleDoc) -> CompiledScoreRule:
    try:
        # The rule center's checks (the core's limits, CEL's syntax), naming the field.
        compile_expression(doc.when, "when")
        return CompiledScoreRule(doc, Condition(doc.when))
    except ValueError as error:
        raise RuleError(f"score rule {doc.id} v{doc.version}: {error}") from None


def matching_rules(
    rules: list[CompiledScoreRule],
    context: CelContext,
    budget_ms: float | None,
    slow: list[tuple[str, float]],
) -> list[CompiledScoreRule]:
    """The active rules that hold in ``context``; those whose test took more than
    ``budget_ms`` are left out and added to ``slow`` (rule id, milliseconds)."""
    matching = []
    for rule in rules:
        if rule.doc.mode != "active":
            continue
        started = time.perf_counter()
        matched = rule.when.test(context)
        took_ms = (time.perf_counter() - started) * 1000
        if budget_ms is not None and took_ms > budget_ms:
            # Its verdict came too late to be trusted as the rule's usual work: skipped
            # for this request, and the rule reported (and suspended) through on_slow.
            slow.append((rule.doc.id, took_ms))
            continue
        if matched:
            matching.append(rule)
    return matching
