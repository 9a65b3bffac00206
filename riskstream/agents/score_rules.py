"""Scoring rules compiled for the scorer: a CEL ``when`` and its points, and the
verdicts each remembers by the values it read (``agents/scoring.score`` asks
:func:`matching_rules` which of them match a transaction's evidence)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from riskstream.agents.cep.compiler import RuleError
from riskstream.agents.cep.expressions import Expression, compile_expression
from riskstream.streams.scoring_model import ScoreRuleDoc

# Verdicts a scoring rule remembers, by the values it read (see CompiledScoreRule).
VERDICTS_KEPT = 1024


@dataclass(frozen=True, slots=True)
class CompiledScoreRule:
    doc: ScoreRuleDoc
    when: Expression
    # The inputs it read (their repr: it tells 1 from 1.0, True and "1") -> its verdict.
    # A CEL evaluation costs 10-30 µs, most of it handing the values over; most requests
    # hand the same few over (no signals on the entities, no history): one evaluation
    # serves them all. Expressions are pure, so the verdict is the same.
    verdicts: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def remember(self, inputs: str, verdict: bool) -> None:
        if len(self.verdicts) >= VERDICTS_KEPT:
            self.verdicts.clear()
        self.verdicts[inputs] = verdict


def compile_score_rule(doc: ScoreRuleDoc) -> CompiledScoreRule:
    try:
        return CompiledScoreRule(doc, compile_expression(doc.when, "when"))
    except ValueError as error:
        raise RuleError(f"score rule {doc.id} v{doc.version}: {error}") from None


def matching_rules(
    rules: list[CompiledScoreRule],
    variables: dict[str, Any],
    budget_ms: float | None,
    slow: list[tuple[str, float]],
) -> list[CompiledScoreRule]:
    """The active rules that match; those whose evaluation took more than ``budget_ms``
    are left out and added to ``slow`` (rule id, milliseconds)."""
    matching = []
    for rule in rules:
        if rule.doc.mode != "active":
            continue
        inputs = rule.when.inputs(variables)
        key = repr(inputs)
        matched = rule.verdicts.get(key)
        if matched is None:
            started = time.perf_counter()
            matched = rule.when.test(inputs)
            took_ms = (time.perf_counter() - started) * 1000
            if budget_ms is not None and took_ms > budget_ms:
                # Its verdict came too late to be trusted as the rule's usual work: skipped
                # for this request (and not remembered), and the rule reported (and
                # suspended) through on_slow.
                slow.append((rule.doc.id, took_ms))
                continue
            rule.remember(key, matched)
        if matched:
            matching.append(rule)
    return matching
