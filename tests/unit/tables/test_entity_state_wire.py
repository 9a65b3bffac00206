"""The entity record's compact wire form decodes to the state it was made from, and
records written in the earlier, plain form still decode."""

from __future__ import annotations

from riskstream.streams.codec import dumps, loads
from riskstream.tables.entity_state import EntityState, Entry


def busy_state() -> EntityState:
    state = EntityState(watermark_ms=5_000, tags=["velocity@2", "mule.fan_in@1"])
    for n in range(6):
        flags = {"velocity@2": 1 | (n % 2) * 2}
        if n % 3 == 0:
            flags["mule.fan_in@1"] = 1
        state.entries.append(Entry(1_000 + n, f"e{n}", {"type": "payment"}, flags))
        state.seen[f"e{n}"] = 1_000 + n
    state.seen["unstored"] = 999  # an event no rule took: only in seen
    state.entries[0].flags["retired@1"] = 1  # a tag not in ``tags``: written by name
    return state


def test_the_compact_form_decodes_to_the_same_state() -> None:
    state = busy_state()
    wire = state.to_wire()
    restored = EntityState.from_wire(loads(dumps(wire)))
    assert restored == state
    assert restored.seen == state.seen
    assert [entry.flags for entry in restored.entries] == [e.flags for e in state.entries]
    # Stored ids are not written twice, and flags name their tag by number.
    assert set(wire["s"]) == {"unstored"}
    assert wire["e"][1][3] == {"0": 3}
    assert wire["e"][0][3] == {"0": 1, "1": 1, "retired@1": 1}


def test_records_in_the_plain_form_still_decode() -> None:
    state = busy_state()
    plain = {
        **state.to_wire(),
        "e": [entry.to_wire() for entry in state.entries],  # full tag names
        "s": dict(state.seen),  # stored ids too
    }
    assert EntityState.from_wire(loads(dumps(plain))) == state


def test_trimming_seen_keeps_the_ids_of_stored_entries() -> None:
    state = busy_state()
    for n in range(40):  # many newer events no rule took
        state.seen[f"x{n}"] = 2_000 + n
    state.evict(horizon_ms=10_000, max_entries=10, baseline_days=0)
    assert len(state.entries) == 6
    assert all(entry.event_id in state.seen for entry in state.entries)
    assert len([key for key in state.seen if key.startswith("x")]) == 20
