from __future__ import annotations

from riskstream.agents.rule_center import RuleCenter, encode_rule
from riskstream.rules.loader import default_pack, default_score_rules


def test_the_rules_version_follows_every_change_and_only_changes() -> None:
    pack, scoring = default_pack(), default_score_rules()
    center = RuleCenter(pack, scoring)
    original = center.version
    assert center.version == original  # asked twice, nothing changed

    score_rule, detect_rule = scoring[0], pack[0]
    assert center.apply(score_rule.id.encode(), None) is None
    without_score_rule = center.version
    assert without_score_rule != original
    assert center.apply(detect_rule.id.encode(), None) is None
    assert center.version not in {original, without_score_rule}

    assert center.apply(score_rule.id.encode(), encode_rule(score_rule)) is None
    assert center.apply(detect_rule.id.encode(), encode_rule(detect_rule)) is None
    assert center.version == original  # the same rules in force: the same digest

    refused = center.apply(detect_rule.id.encode(), b"{not json")
    assert refused is not None
    assert center.version == original
