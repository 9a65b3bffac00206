"""StateTable hands the updating agent its own object back only while the stored bytes
are the ones it set; everyone else decodes."""

from __future__ import annotations

from pathlib import Path

from riskstream.app import create_app
from riskstream.streams.codec import dumps
from riskstream.streams.settings import Settings
from riskstream.tables.entity_state import EntityState
from riskstream.tables.faust_tables import StateTable


def table(cache_size: int = 10_000) -> tuple[dict[bytes, bytes], StateTable[EntityState]]:
    store: dict[bytes, bytes] = {}
    return store, StateTable(store, EntityState, cache_size=cache_size)


def test_the_object_set_comes_back_for_update_while_the_bytes_are_unchanged() -> None:
    _, states = table()
    state = EntityState(events_seen=3)
    state.running["r@1"] = object()  # kept beside the record, never in it
    states.set("a", state)
    again = states.get_for_update("a")
    assert again is state
    assert "r@1" in again.running
    assert (states.cache_hits, states.cache_misses) == (1, 0)


def test_get_always_decodes_a_fresh_object() -> None:
    _, states = table()
    state = EntityState(events_seen=3)
    states.set("a", state)
    fresh = states.get("a")
    assert fresh is not None and fresh is not state
    assert fresh.to_wire() == state.to_wire()
    assert fresh.running == {}


def test_bytes_changed_behind_the_cache_are_decoded() -> None:
    store, states = table()
    states.set("a", EntityState(events_seen=3))
    store[b"a"] = dumps(EntityState(events_seen=9).to_wire())  # a changelog recovery, say
    got = states.get_for_update("a")
    assert got is not None and got.events_seen == 9
    assert (states.cache_hits, states.cache_misses) == (0, 1)


def test_an_object_is_handed_out_once_until_it_is_set_again() -> None:
    _, states = table()
    state = EntityState(events_seen=3)
    states.set("a", state)
    first = states.get_for_update("a")
    assert first is state
    first.events_seen = 99  # an update that failed before its set
    second = states.get_for_update("a")
    assert second is not state and second is not None and second.events_seen == 3


def test_deleted_records_are_gone_and_the_cache_is_bounded() -> None:
    store, states = table(cache_size=2)
    first = EntityState(events_seen=1)
    states.set("a", first)
    for key in ("b", "c"):
        states.set(key, EntityState(events_seen=1))
    again = states.get_for_update("a")  # pushed out of the cache: decoded
    assert again is not None and again is not first
    del store[b"b"]
    assert states.get_for_update("b") is None
    assert states.get("missing") is None


def test_state_changelogs_and_the_producer_take_records_beyond_one_megabyte(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, state_record_max_bytes=4 * 1024 * 1024)
    app = create_app(settings)
    assert app.conf.producer_max_request_size == 4 * 1024 * 1024
    for states in (app.pipeline.accounts, app.pipeline.entities):
        assert states.table.changelog_topic.config == {"max.message.bytes": str(4 * 1024 * 1024)}
