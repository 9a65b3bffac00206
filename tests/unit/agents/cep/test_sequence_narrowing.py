"""An in-order event only searches for sequence matches that end with it: the signals
must be exactly those of the full search, whatever the stream."""

from __future__ import annotations

import random
from typing import Any

import pytest

from riskstream.agents.cep import sequences
from riskstream.agents.cep.compiler import RuleSet
from riskstream.rules.loader import default_pack
from riskstream.streams.events import Event
from riskstream.streams.outputs import Signal
from tests.unit.factories import account_event, txn
from tests.unit.rules.harness import rules_from_yaml, run

THREE_STEPS = """
- id: t.three
  version: 1
  description: a change, small probes, then a withdrawal far larger than a probe
  events: [transaction, account_event]
  severity: 50
  sequence:
    within: 30m
    steps:
      - {name: change, when: 'event.type == "password_change"'}
      - {name: probe, when: 'event.type == "payment" && event.amount < 20.0', times: 2}
      - name: out
        when: 'event.type == "withdrawal"'
        match: event.amount >= 10.0 * steps.probe.amount
"""
CITIES = [(31.2, 121.5), (39.9, 116.4), (50.1, 8.7), (1.35, 103.8)]


def random_stream(seed: int, count: int = 300) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    second = 0.0
    for n in range(count):
        second += rng.expovariate(1 / 60)
        if rng.random() < 0.08:
            kind = rng.choice(["password_change", "device_bound"])
            events.append(account_event(f"e{n:04d}", second, kind))
            continue
        lat, lon = rng.choice(CITIES)
        extra: dict[str, Any] = {"instrument_id": rng.choice(["card-1", "card-2"])}
        if rng.random() < 0.5:
            extra["geo"] = {"lat": lat, "lon": lon}
        amount = rng.choice(["3", "8", "15", "120", "650", "1500"])
        kind = rng.choice(["payment", "payment", "top_up", "withdrawal"])
        events.append(txn(f"e{n:04d}", second, amount, type=kind, **extra))
    return events


def signals(rules: RuleSet, events: list[Event], monkeypatch: pytest.MonkeyPatch) -> list[Signal]:
    with monkeypatch.context() as patch:
        patch.setattr(sequences, "_narrowable", lambda *args: False)
        full = run(rules, events)
    narrowed = run(rules, events)
    assert [s.model_dump() for s in narrowed] == [s.model_dump() for s in full]
    return full


def test_narrowed_search_gives_the_full_search_s_signals(monkeypatch: pytest.MonkeyPatch) -> None:
    pack = RuleSet.of(doc for doc in default_pack() if doc.sequence is not None)
    rules = RuleSet({**pack.rules, **rules_from_yaml(THREE_STEPS).rules})
    fired: set[str] = set()
    for seed in range(10):
        fired |= {signal.rule_id for signal in signals(rules, random_stream(seed), monkeypatch)}
    # The streams reach every kind of sequence compared: two steps, a repeated first
    # step, a match on an earlier step's fields, three steps.
    assert fired >= {"impossible_travel", "card_testing", "cash_out", "account_takeover", "t.three"}
