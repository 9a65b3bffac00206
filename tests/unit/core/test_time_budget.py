"""The core times what its interpreter evaluates, so that a rule over its time budget
can be switched off (``RuleCenter.suspend_slow``)."""

from __future__ import annotations

from datetime import UTC, datetime

from riskstream.streams.events import Transaction
from tests.unit.rules.harness import Runner, rules_from_yaml

ITEMS = "[" + ",".join(str(n) for n in range(100)) + "]"
RULES = f"""
- id: t.slow
  version: 1
  description: Ten thousand iterations an event, within the cost bound.
  events: [payment]
  window: {{type: sliding, size: 1h}}
  aggregates: {{n: {{fn: count}}}}
  condition: "{ITEMS}.exists(a, {ITEMS}.exists(b, a + b < 0 - agg.n))"
  severity: 10
- id: t.fast
  version: 1
  description: The fast path's tree, never timed.
  events: [payment]
  window: {{type: sliding, size: 1h}}
  aggregates: {{n: {{fn: count}}}}
  condition: agg.n > 100
  severity: 10
"""


def test_the_rules_over_budget_are_told_once_each() -> None:
    runner = Runner(rules_from_yaml(RULES))
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    event = {"event_id": "e1", "type": "payment", "occurred_at": moment, "account_id": "acct"}
    runner.process(Transaction.model_validate({**event, "amount": "5", "currency": "CNY"}))
    snapshot = runner.live.snapshot(runner.rules)
    slow = snapshot.slow_rules(budget_ms=0.0)
    assert [rule_id for rule_id, _ in slow] == ["t.slow"]
    assert slow[0][1] > 0
    assert snapshot.slow_rules(budget_ms=0.0) == [], "told once, then timed afresh"
    assert snapshot.slow_rules(budget_ms=10_000.0) == []
