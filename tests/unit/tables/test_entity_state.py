"""Entity state: trimming the ids of events seen never forgets a stored entry's, and
the wire form made once per entry follows its flags."""

from __future__ import annotations

import random

from riskstream.tables.entity_state import EntityState, Entry


def test_trimming_seen_keeps_the_ids_of_stored_entries() -> None:
    state = EntityState(watermark_ms=5_000, tags=["velocity@2"])
    for n in range(6):
        state.entries.append(Entry(1_000 + n, f"e{n}", {"type": "payment"}, {"velocity@2": 1}))
        state.seen[f"e{n}"] = 1_000 + n
    for n in range(40):  # many newer events no rule took
        state.seen[f"x{n}"] = 2_000 + n
    state.evict(horizon_ms=10_000, max_entries=10, baseline_days=0)
    assert len(state.entries) == 6
    assert all(entry.event_id in state.seen for entry in state.entries)
    assert sorted(key for key in state.seen if key.startswith("x")) == sorted(
        f"x{n}" for n in range(20, 40)
    )


def test_an_entrys_wire_form_follows_flags_changed_in_place() -> None:
    state = EntityState(tags=["old@1", "new@1"])
    entry = Entry(1_000, "e1", {"type": "payment"}, {"old@1": 1, "new@1": 3})
    state.entries.append(entry)
    first = state.to_wire()["e"][0]
    assert first == [1_000, "e1", {"type": "payment"}, {"old@1": 1, "new@1": 3}]
    state.forget_rules_except(frozenset({"new@1"}))  # drops the old version's bits in place
    assert state.to_wire()["e"][0] == [1_000, "e1", {"type": "payment"}, {"new@1": 3}]
    assert EntityState.from_wire(state.to_wire()) == state


def test_the_oldest_seen_time_is_kept_exactly() -> None:
    rng = random.Random(4)
    state = EntityState()
    clock = 10_000
    for n in range(3_000):
        clock += rng.randrange(0, 50)
        late = rng.random() < 0.2
        state.remember(f"e{n}", clock - rng.randrange(0, 5_000) if late else clock)
        state.watermark_ms = max(state.watermark_ms, clock)
        if rng.random() < 0.3:
            state.evict(horizon_ms=rng.choice([2_000, 4_000]), max_entries=300, baseline_days=0)
        assert state._oldest_seen() == min(state.seen.values(), default=-1)
    restored = EntityState.from_wire(state.to_wire())
    assert restored._oldest_seen() == min(state.seen.values())
