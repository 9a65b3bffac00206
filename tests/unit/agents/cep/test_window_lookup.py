"""Windows found by bisect over the entries equal those of a full scan (the definition)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest

from riskstream.agents.cep.compiler import CompiledRule
from riskstream.agents.cep.windows import Window, windows_for
from riskstream.tables.entity_state import EntityState, Entry
from tests.unit.rules.harness import rules_from_yaml

WINDOWS = [
    "{type: sliding, size: 10m}",
    "{type: sliding, size: 1s}",
    "{type: tumbling, size: 10m}",
    "{type: hopping, size: 10m, hop: 3m}",
    "{type: count, size: 1}",
    "{type: count, size: 3}",
    "{type: count, size: 7}",
]


def compiled(window: str) -> CompiledRule:
    rules = rules_from_yaml(f"""
- id: t.rule
  version: 1
  description: test
  events: [payment]
  severity: 50
  window: {window}
  aggregates: {{n: {{fn: count}}}}
  condition: agg.n > 1
""")
    return rules.rules["t.rule"]


def full_scan(rule: CompiledRule, state: EntityState, entry: Entry) -> Iterator[Window]:
    """The windows as defined: every rule entry considered for every window."""
    spec = rule.doc.window
    assert spec is not None
    taken = [item for item in state.entries if item.flags.get(rule.tag, 0) & 1]
    if spec.type == "count":
        assert isinstance(spec.size, int)
        size = spec.size
        position = next(index for index, item in enumerate(taken) if item is entry)
        for end in range(position, min(len(taken), position + size)):
            members = taken[max(0, end - size + 1) : end + 1]
            if len(members) == size:
                key = f"c:{taken[end].event_id}"
                yield Window(key, members[0].ts_ms, members[-1].ts_ms, members, False)
        return
    assert isinstance(spec.size, timedelta)
    width = int(spec.size.total_seconds() * 1000)
    if spec.type == "sliding":
        for end in taken:
            if entry.ts_ms <= end.ts_ms < entry.ts_ms + width:
                start = end.ts_ms - width + 1
                members = [
                    item for item in taken if start <= item.ts_ms and item.sort_key <= end.sort_key
                ]
                yield Window(f"s:{end.event_id}", start, end.ts_ms, members, False)
        return
    hop = width if spec.type == "tumbling" else int(spec.hop.total_seconds() * 1000)  # type: ignore[union-attr]
    starts = []
    start = entry.ts_ms // hop * hop
    while start > entry.ts_ms - width:
        starts.append(start)
        start -= hop
    for start in reversed(starts):
        members = [item for item in taken if start <= item.ts_ms < start + width]
        yield Window(f"{spec.type[0]}:{start}", start, start + width - 1, members, True)


def random_state(rng: random.Random, tag: str) -> EntityState:
    state = EntityState()
    for index in range(rng.randrange(1, 60)):
        ts = rng.choice([0, 1, 999, 1000, 60_000, 599_999, 600_000, 600_001])
        ts += rng.randrange(0, 3_600_000) if rng.random() < 0.7 else 0
        # Entries of other rules only, of this rule, and same times with other ids.
        flags = {tag: rng.choice([1, 3, 2])} if rng.random() < 0.7 else {"other@1": 1}
        state.insert(
            Entry(ts, rng.choice([f"e{index}", f"x{index % 3}z{index}", "same"]), {}, flags)
        )
    return state


@pytest.mark.parametrize("window", WINDOWS)
def test_window_lookup_matches_a_full_scan(window: str) -> None:
    rule = compiled(window)
    rng = random.Random(window)
    checked = 0
    for _ in range(300):
        state = random_state(rng, rule.tag)
        for entry in state.entries:
            if entry.flags.get(rule.tag, 0) & 1:
                assert list(windows_for(rule, state, entry, incremental=False)) == list(
                    full_scan(rule, state, entry)
                )
                checked += 1
    assert checked > 1000
