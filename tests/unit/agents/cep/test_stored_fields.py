"""The compiler works out the event fields a rule reads of stored entries (``stored``):
what the plan tells the core to keep. ``tests/unit/core/test_stored_fields.py`` runs the
core with them."""

from __future__ import annotations

from riskstream.rules.loader import default_ruleset
from tests.unit.rules.harness import rules_from_yaml


def test_a_rule_stores_what_it_reads() -> None:
    rules = default_ruleset()
    merchant = rules.rules["merchant.fraud_rate"]
    assert merchant.stored == {"type", "kind", "status", "label"}
    travel = rules.rules["impossible_travel"]
    assert travel.stored is not None
    assert {"lat", "lon", "ts"} <= travel.stored
    assert "counterparty_id" not in travel.stored  # the key is read of fresh events only


def test_a_rule_reading_the_event_whole_stores_everything() -> None:
    whole = rules_from_yaml("""
- id: t.whole
  version: 1
  description: reads the event as a whole
  events: [payment]
  severity: 50
  when: event != null
  window: {type: count, size: 1}
  aggregates: {n: {fn: count}}
  condition: agg.n > 0
""")
    assert whole.rules["t.whole"].stored is None
