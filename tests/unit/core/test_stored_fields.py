"""Entries keep only the event fields their entity's rules read (the plan's ``stored``):
the same signals as keeping every field, and a busy merchant's record a fraction of the
size."""

from __future__ import annotations

import pytest

from riskstream.agents import plan as plan_module
from riskstream.agents.live_rules import LiveRules, projection
from riskstream.agents.validation import parse_event
from riskstream.rules.loader import default_ruleset
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.streams.events import Event
from riskstream.streams.settings import Settings
from tests.unit.factories import txn
from tests.unit.rules.harness import Runner

MERCHANTS = "event.counterparty_id"


def simulated_day() -> list[Event]:
    dataset = generate(SimulationConfig(seed=5, customers=150, days=1.0, fraud_per_pattern=2))
    events = [parse_event(item.encode(), max_bytes=1 << 20) for item in dataset.events]
    return sorted(events, key=lambda event: event.occurred_ms)


def test_stored_fields_change_no_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    events = simulated_day()
    kept = Runner(default_ruleset(), cache_bytes=64 << 20)
    projected = [signal for event in events for signal in kept.signals(event)]
    with monkeypatch.context() as patch:
        patch.setattr(plan_module, "_stored", lambda rules: None)
        everything = Runner(default_ruleset(), cache_bytes=64 << 20)
        full = [signal for event in events for signal in everything.signals(event)]
    assert len(projected) >= 10
    assert projected == full
    merchants = [key for key in kept.records if key[0] == MERCHANTS]
    assert merchants
    assert sum(len(kept.records[key]) for key in merchants) < sum(
        len(everything.records[key]) for key in merchants
    )


def busy_merchant_record() -> int:
    """Bytes of a merchant's record after as many payments as an entity keeps, applied
    as one batch (as the entity stage applies a re-key bundle)."""
    snapshot = LiveRules(0).snapshot(default_ruleset())
    group = snapshot.engine.group_of(MERCHANTS)
    assert group is not None
    events = [
        projection(txn(f"evt-{n:08d}-0000-0000-0000-000000000000", 60 * n, "25.00",
                       account=f"acc-{n % 700}", counterparty_id="merch-busy"))[1]
        for n in range(5_000)
    ]  # fmt: skip
    [(record, outcomes, _, _)] = snapshot.engine.apply([(group, "merch-busy", None, events)])
    assert {outcome[0] for outcome in outcomes} == {"applied"}
    return len(record)


def test_a_busy_merchant_record_stays_small(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = busy_merchant_record()
    with monkeypatch.context() as patch:
        patch.setattr(plan_module, "_stored", lambda rules: None)
        everything = busy_merchant_record()
    assert kept < everything * 0.8, (kept, everything)
    assert kept < Settings().state_record_max_bytes / 4
