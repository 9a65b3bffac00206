"""Trimming the ids of events already seen never forgets a stored entry's."""

from __future__ import annotations

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
