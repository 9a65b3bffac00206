"""Which rules an offline run uses: the shipped ones, or those of a directory."""

from __future__ import annotations

from pathlib import Path

from riskstream.agents.rule_center import RuleCenter
from riskstream.rules.loader import default_pack, default_score_rules, load_rules
from riskstream.streams.rule_model import RuleDoc
from riskstream.streams.scoring_model import ScoreRuleDoc


def rule_center(rules: Path | None = None) -> RuleCenter:
    """The shipped pack and scoring rules; or the rules found under ``rules``, where
    detection and scoring rules each replace the shipped ones only if it has any.

    Rule files are validated and compiled here, so a bad one stops the run with its
    path and the reason (:class:`RuleError`) before anything is replayed.
    """
    detection: list[RuleDoc] = default_pack()
    scoring: list[ScoreRuleDoc] = default_score_rules()
    if rules is not None:
        if not rules.exists():
            raise FileNotFoundError(f"no rules at {rules}")
        docs = load_rules([rules])
        given = [doc for doc in docs if isinstance(doc, RuleDoc)]
        given_scoring = [doc for doc in docs if isinstance(doc, ScoreRuleDoc)]
        detection = given or detection
        scoring = given_scoring or scoring
    # As on a worker: disabled rules are skipped, shadow rules evaluated apart.
    return RuleCenter(detection, scoring)
