"""Running sliding windows give exactly what reading every window in full gives: the same
aggregates for every event and the same signals, whatever the stream (order, equal
times, duplicates, late events, the entry cap, odd values)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from riskstream.agents.cep import engine as engine_module
from riskstream.agents.cep.compiler import CompiledRule
from riskstream.agents.cep.engine import EngineLimits, RuleEngine
from riskstream.agents.cep.windows import Window
from riskstream.tables.entity_state import EntityState, Entry
from tests.unit.rules.harness import rules_from_yaml

AGGREGATES = """
    n: {fn: count}
    big: {fn: count, where: 'event.amount > 100.0'}
    total: {fn: sum, field: amount}
    spent: {fn: sum, field: amount, where: 'event.type == "payment"'}
    low: {fn: min, field: amount}
    high: {fn: max, field: amount}
    avg: {fn: mean, field: amount}
    payees: {fn: distinct, field: counterparty_id}
    nested: {fn: sum, field: attributes.score}
    odd_low: {fn: min, field: attributes.score}
    odd_avg: {fn: mean, field: attributes.score}
    share: {fn: ratio, of: [big, n]}
"""
AMOUNTS = ["0.01", "3", "8.50", "15", "120.00", "650", "1500.5", "99999999.99", "7e2", "1E-3"]
ODD = [None, "not a number", "NaN", "Infinity", "1e30", "0.000000001", True, 12, 3.25, {"a": 1}]


def rule(window: str, condition: str) -> CompiledRule:
    rules = rules_from_yaml(f"""
- id: t.window
  version: 1
  description: every aggregate over a window
  events: [payment, transfer]
  severity: 50
  window: {window}
  aggregates:{AGGREGATES}
  condition: '{condition}'
""")
    return rules.rules["t.window"]


def stream(seed: int, odd: bool) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    ms = 1_700_000_000_000
    for n in range(400):
        roll = rng.random()
        if roll < 0.1 and events:  # the same event again
            events.append(dict(rng.choice(events)))
            continue
        step = 0 if roll < 0.2 else int(rng.expovariate(1 / 40_000))
        ms += step
        at = ms - int(rng.expovariate(1 / 120_000)) if roll > 0.9 else ms  # out of order
        amount = rng.choice(AMOUNTS)
        fields: dict[str, Any] = {
            "event_id": f"e{n:04d}",
            "type": rng.choice(["payment", "payment", "transfer"]),
            "account_id": "acct-1",
            "ts": at / 1000,
            "amount": amount,
            "counterparty_id": rng.choice(["m1", "m2", "m3", None]),
        }
        if rng.random() < 0.5:
            odd_value = odd and rng.random() < 0.03
            score = rng.choice(ODD if odd_value else ["1.5", 2, None, "x"])
            fields["attributes"] = {"score": score}
        events.append(fields)
    return events


def replay(
    compiled: CompiledRule,
    events: list[dict[str, Any]],
    incremental: bool,
    max_entries: int,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[Any], list[Any]]:
    seen: list[Any] = []
    full = engine_module.aggregate

    def recorded(
        rule: CompiledRule, state: EntityState, window: Window, entry: Entry
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        values, shown = full(rule, state, window, entry)
        members = [item.event_id for item in window.members]
        seen.append((entry.event_id, window.key, members, values, shown))
        return values, shown

    engine = RuleEngine(EngineLimits(max_entries=max_entries), incremental=incremental)
    state = EntityState()
    signals = []
    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "aggregate", recorded)
        for fields in events:
            try:
                outcome = engine.process(state, dict(fields), [compiled], "acct-1")
            except ArithmeticError as error:  # NaN in a min/max: both ways, at the same event
                signals.append(("error", fields["event_id"], type(error).__name__))
                continue
            signals.extend(signal.model_dump(mode="json") for signal in outcome.signals)
    return seen, signals


WINDOWS = [
    "{type: sliding, size: 2m}",
    "{type: sliding, size: 10m}",
    "{type: sliding, size: 1h}",
    "{type: tumbling, size: 5m}",
    "{type: tumbling, size: 1h}",
]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("window", WINDOWS)
def test_running_windows_aggregate_as_full_reads(seed: int, window: str, monkeypatch) -> None:
    compiled = rule(window, "agg.n < 0")  # never fires: every window is aggregated
    events = stream(seed, odd=seed % 3 == 0)
    max_entries = 25 if seed % 4 == 1 else 5_000
    reference = replay(compiled, events, False, max_entries, monkeypatch)
    running = replay(compiled, events, True, max_entries, monkeypatch)
    assert len(reference[0]) > 50
    assert repr(running) == repr(reference)  # repr: NaN equals itself there


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("window", [WINDOWS[1], WINDOWS[3]])
def test_running_windows_fire_the_same_signals(seed: int, window: str, monkeypatch) -> None:
    compiled = rule(window, "agg.n >= 3 && agg.total > 200.0 && agg.payees >= 2")
    events = stream(100 + seed, odd=False)
    reference = replay(compiled, events, False, 5_000, monkeypatch)
    running = replay(compiled, events, True, 5_000, monkeypatch)
    assert reference[1], "the condition should fire on these streams"
    assert running[1] == reference[1]


def test_in_order_entries_are_taken_running(monkeypatch) -> None:
    compiled = rule(WINDOWS[1], "agg.n < 0")
    engine = RuleEngine()
    state = EntityState()
    for n in range(5):
        fields = {"event_id": f"e{n}", "type": "payment", "account_id": "a", "ts": 1000.0 + n,
                  "amount": "10", "counterparty_id": None}  # fmt: skip
        engine.process(state, fields, [compiled], "a")
    running = state.running[compiled.tag]
    assert [item.event_id for item in running.members] == [f"e{n}" for n in range(5)]
    late = {"event_id": "x", "type": "payment", "account_id": "a", "ts": 1000.5,
            "amount": "10", "counterparty_id": None}  # fmt: skip
    engine.process(state, late, [compiled], "a")
    assert compiled.tag not in state.running  # out of order: read in full
    assert state.to_wire() == EntityState.from_wire(state.to_wire()).to_wire()
    assert "running" not in str(state.to_wire())
