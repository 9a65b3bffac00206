"""Entries keep only the event fields their entity's rules read: the same signals as
keeping every field, and a busy merchant's record a fraction of the size."""

from __future__ import annotations

import pytest

from riskstream.agents.cep import engine as engine_module
from riskstream.agents.cep.expressions import cel_view, project
from riskstream.agents.cep.runner import LocalRunner
from riskstream.agents.validation import parse_event
from riskstream.rules.loader import default_ruleset
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.streams.codec import dumps
from riskstream.streams.events import Event
from riskstream.streams.settings import Settings
from riskstream.tables.entity_state import EntityState
from tests.unit.factories import txn
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


def simulated_day() -> list[Event]:
    dataset = generate(SimulationConfig(seed=5, customers=400, days=1.0, fraud_per_pattern=2))
    return [parse_event(item.encode(), max_bytes=1 << 20) for item in dataset.events]


def test_stored_fields_change_no_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    events = sorted(simulated_day(), key=lambda event: event.occurred_ms)
    rules = default_ruleset()
    kept = LocalRunner(rules)
    projected = [signal for event in events for signal in kept.signals(event)]
    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "_stored", lambda rules: None)
        everything = LocalRunner(rules)
        full = [signal for event in events for signal in everything.signals(event)]
    assert len(projected) >= 10
    assert projected == full
    # An entry's view is its stored fields as CEL sees them, no more: as after a restart.
    for state in kept.states.values():
        for entry in state.entries:
            assert entry.view is None or entry.view == cel_view(entry.fields)
    merchant = next(key for key in kept.states if key[0] == "event.counterparty_id")
    stored = kept.states[merchant].entries[0].fields
    assert set(stored) <= {"type", "kind", "status", "label"}
    assert len(everything.states[merchant].entries[0].fields) > len(stored)


def busy_merchant_record() -> int:
    """Bytes of a merchant's record after as many payments as an entity keeps."""
    group = default_ruleset().key_groups["event.counterparty_id"]
    engine = engine_module.RuleEngine()
    state = EntityState()
    for n in range(engine.limits.max_entries):
        event = txn(f"evt-{n:08d}-0000-0000-0000-000000000000", 60 * n, "25.00",
                    account=f"acc-{n % 700}", counterparty_id="merch-busy")  # fmt: skip
        engine.process(state, project(event), group, "merch-busy")
    assert len(state.entries) == engine.limits.max_entries
    return len(dumps(state.to_wire()))


def test_a_busy_merchant_record_stays_small(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = busy_merchant_record()
    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "_stored", lambda rules: None)
        everything = busy_merchant_record()
    assert kept < everything / 2, (kept, everything)
    assert kept < Settings().state_record_max_bytes / 4
