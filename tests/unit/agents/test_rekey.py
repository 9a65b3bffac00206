"""The re-key topic's wire: bundles by partition, and the older one-item messages."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiokafka.partitioner import murmur2

from riskstream.agents.rekey import (
    KEY_SEPARATOR,
    RekeyBuffer,
    RekeyedEvent,
    decode,
    decode_message,
    encode_bundle,
    partition_of,
)
from riskstream.streams.codec import dumps


def item(group: str, value: str, n: int = 0) -> RekeyedEvent:
    return RekeyedEvent(group, value, {"event_id": f"e{n}", "ts": 1.5 + n, "amount": "12.30"})


def test_partition_is_kafkas_murmur2_of_the_table_key() -> None:
    # Kafka's Java client and aiokafka: positive murmur2 of the key bytes, modulo count.
    for key in ("event.device_id\x1fdev-1", "event.ip\x1f10.0.0.1", "x", "merchant-é"):
        expected = (murmur2(key.encode()) & 0x7FFFFFFF) % 8
        assert partition_of(key, 8) == expected
    assert {partition_of(f"k{n}", 8) for n in range(200)} == set(range(8))


def test_a_bundle_holds_only_items_of_its_partition_in_arrival_order() -> None:
    buffer = RekeyBuffer(4)
    items = [item("event.device_id", f"dev-{n % 7}", n) for n in range(40)]
    for one in items:
        buffer.add(one)
    assert buffer.size == 40
    bundles = buffer.drain()
    assert buffer.size == 0 and buffer.drain() == []
    seen: list[RekeyedEvent] = []
    for partition, payload in bundles:
        decoded = list(decode(None, payload))
        assert decoded and all(partition_of(one.table_key, 4) == partition for one in decoded)
        assert decoded == [one for one in items if partition_of(one.table_key, 4) == partition]
        seen += decoded
    assert sorted(seen, key=lambda one: one.fields["event_id"]) == sorted(
        items, key=lambda one: one.fields["event_id"]
    )


def test_items_survive_the_wire_unchanged() -> None:
    original = [item("event.ip", "10.1.2.3", 1), item("event.merchant_id", "m|x", 2)]
    assert list(decode(None, encode_bundle(original))) == original
    assert original[1].table_key == f"event.merchant_id{KEY_SEPARATOR}m|x"


def test_single_item_messages_of_older_builds_are_still_read() -> None:
    old = item("event.device_id", "dev-9", 3)
    value = dumps({"g": old.group, "k": old.value, "f": old.fields})
    assert list(decode(old.table_key.encode(), value)) == [old]


def test_messages_riskstream_did_not_write_yield_nothing() -> None:
    assert list(decode(b"k", None)) == []
    assert list(decode(b"k", b"[1, 2]")) == []
    assert list(decode(None, dumps({"g": "a", "k": "b", "f": {}}))) == []  # no key
    assert list(decode(b"k", dumps({"bundle": 99, "items": []}))) == []  # unknown format


def test_a_buffer_needs_a_partition() -> None:
    with pytest.raises(ValueError, match="partition"):
        RekeyBuffer(0)


def test_many_keys_spread_over_partitions_like_the_producer() -> None:
    rng = random.Random(5)
    keys = [f"event.device_id{KEY_SEPARATOR}{rng.getrandbits(64):x}" for _ in range(500)]
    counts = [0] * 8
    for key in keys:
        counts[partition_of(key, 8)] += 1
    assert min(counts) > 30  # a hash, not a constant


async def test_concurrent_flushes_never_let_a_bundle_overtake_an_earlier_one() -> None:
    buffer = RekeyBuffer(2)
    sent: list[tuple[int, list[str]]] = []
    delays = iter([0.05])  # the first send is slow, the others quick

    async def slow_send(partition: int, bundle: bytes) -> None:
        await asyncio.sleep(next(delays, 0.0))  # another flush gets its chance here
        sent.append((partition, [item.value for item in decode(None, bundle)]))

    first = [RekeyedEvent("event.device_id", f"a{n}", {}) for n in range(20)]
    second = [RekeyedEvent("event.device_id", f"b{n}", {}) for n in range(20)]
    for item in first:
        buffer.add(item)
    flushing = asyncio.create_task(buffer.flush(slow_send))
    await asyncio.sleep(0)  # the first flush has drained the buffer and is sending
    for item in second:
        buffer.add(item)
    assert await buffer.flush(slow_send)
    assert await flushing
    assert not await buffer.flush(slow_send)  # nothing left

    for partition in (0, 1):
        values = [v for p, bundle in sent if p == partition for v in bundle]
        expected = [i.value for i in first + second if partition_of(i.table_key, 2) == partition]
        assert values == expected


def test_every_bundle_carries_the_frontiers_and_a_moved_one_reaches_every_partition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("riskstream.agents.rekey.time.monotonic", lambda: clock[0])
    buffer = RekeyBuffer(3)
    assert buffer.drain() == []  # nothing to say yet
    buffer.announce(0, 1_000, False)
    buffer.announce(5, 2_000, True)
    bundles = buffer.drain()
    assert [partition for partition, _ in bundles] == [0, 1, 2]
    for _, bundle in bundles:
        assert decode_message(None, bundle) == ([], {0: (1_000, False), 5: (2_000, True)})
    assert buffer.drain() == []  # told already
    buffer.announce(0, 1_000, False)  # no news
    assert buffer.drain() == []
    one = item("event.device_id", "dev-1")
    buffer.add(one)
    (only,) = buffer.drain()  # items go whatever the frontiers
    assert only[0] == partition_of(one.table_key, 3)
    assert decode_message(None, only[1])[0] == [one]
    clock[0] += 10.0  # every 10 s every partition hears again
    assert len(buffer.drain()) == 3
    buffer.withdraw()
    clock[0] += 5.0
    assert buffer.drain() == []  # nothing announced, nothing to repeat


def test_a_message_of_an_older_build_has_no_frontier() -> None:
    one = item("event.ip", "10.0.0.1")
    assert decode_message(b"k", dumps(one.to_wire())) == ([one], None)
    assert decode_message(None, encode_bundle([one])) == ([one], None)
    assert decode_message(None, b"[]") == ([], None)
