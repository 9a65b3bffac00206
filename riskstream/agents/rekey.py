"""The re-key topic's wire: events forwarded to the entity stage, bundled by partition.

An event meets ~3 entities besides its account (device, IP, merchant ...). One Kafka
message per entity made the entity stage pay Faust's and aiokafka's per-message cost
several times per event; a bundle carries every item bound for one partition. Items of
a bundle all hash to its partition, with the partitioner Faust also uses for the entity
table's changelog, so an entity's record and its events stay on one partition number.

Every bundle also carries the frontier of each ingest partition of its sender (``wm``:
partition -> [frontier, idle]): every item that partition releases later is at least that
recent. A bundle with no items goes when a frontier moves, and every 10 s anyway, so an
entity partition that starts again hears from every ingest partition
(``agents/event_time.py``); rarely, so that an idle worker's commits catch up.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka.partitioner import DefaultPartitioner

from riskstream.streams.codec import dumps, loads

KEY_SEPARATOR = "\x1f"
BUNDLE_FORMAT = 1
HEARTBEAT_S = 10.0
Marks = dict[int, tuple[int, bool]]  # ingest partition -> (frontier ms, idle)
_partitioner = DefaultPartitioner()


@dataclass(frozen=True, slots=True)
class RekeyedEvent:
    """An event's projected fields bound for one entity: ``group`` is the key
    expression (``event.device_id`` ...), ``value`` the entity's key under it."""

    group: str
    value: str
    fields: dict[str, Any]

    @property
    def table_key(self) -> str:
        return f"{self.group}{KEY_SEPARATOR}{self.value}"

    def to_wire(self) -> dict[str, Any]:
        return {"g": self.group, "k": self.value, "f": self.fields}

    @classmethod
    def from_wire(cls, body: dict[str, Any]) -> RekeyedEvent:
        return cls(str(body["g"]), str(body["k"]), body["f"])


@functools.lru_cache(maxsize=65_536)
def partition_of(table_key: str, partitions: int) -> int:
    """The partition Faust's producer gives ``table_key`` (murmur2, as Kafka's Java client).

    Cached: busy merchants and addresses come back all the time, and murmur2 in Python
    costs more than the rest of an item's forwarding."""
    return int(_partitioner(table_key.encode(), list(range(partitions)), None))


def encode_bundle(items: list[RekeyedEvent], marks: Marks | None = None) -> bytes:
    body: dict[str, Any] = {"bundle": BUNDLE_FORMAT, "items": [item.to_wire() for item in items]}
    if marks is not None:
        body["wm"] = {str(p): [frontier, idle] for p, (frontier, idle) in marks.items()}
    return dumps(body)


def decode(key: bytes | None, value: bytes | None) -> Iterator[RekeyedEvent]:
    """The items of one re-key message (see ``decode_message``)."""
    yield from decode_message(key, value)[0]


def decode_message(
    key: bytes | None, value: bytes | None
) -> tuple[list[RekeyedEvent], Marks | None]:
    """The items of one re-key message and the frontiers it announces: a bundle, or a
    single item as older builds wrote them (keyed by its table key, no frontier), which
    may still sit on the topic after an upgrade. Messages not written by riskstream
    yield nothing."""
    if value is None:
        return [], None
    body = loads(value)
    if not isinstance(body, dict):
        return [], None
    if body.get("bundle") == BUNDLE_FORMAT:
        items = [RekeyedEvent.from_wire(item) for item in body["items"]]
        wire = body.get("wm")
        if not isinstance(wire, dict):
            return items, None
        marks = {int(p): (int(mark[0]), bool(mark[1])) for p, mark in wire.items()}
        return items, marks
    if key is not None and {"g", "k", "f"} <= body.keys():
        return [RekeyedEvent.from_wire(body)], None
    return [], None


SendBundle = Callable[[int, bytes], Awaitable[None]]


class RekeyBuffer:
    """Items waiting to be sent, grouped by partition, in arrival order."""

    def __init__(self, partitions: int) -> None:
        if partitions < 1:
            raise ValueError("the re-key topic has at least one partition")
        self.partitions = partitions
        self._by_partition: dict[int, list[RekeyedEvent]] = {}
        self.size = 0
        self._flushing = asyncio.Lock()
        self.marks: Marks = {}  # this worker's ingest partitions' frontiers
        self._version = 0  # of ``marks``
        self._told: dict[int, tuple[int, float]] = {}  # partition -> (version, when)

    def announce(self, partition: int, frontier_ms: int, idle: bool) -> None:
        """Ingest ``partition`` has released everything older than ``frontier_ms``; the
        items it released are in the buffer already."""
        mark = (frontier_ms, idle)
        if self.marks.get(partition) != mark:
            self.marks[partition] = mark
            self._version += 1

    def withdraw(self) -> None:
        """This worker announces nothing more for its partitions (a rebalance)."""
        self.marks = {}
        self._version += 1

    def add(self, item: RekeyedEvent) -> None:
        partition = partition_of(item.table_key, self.partitions)
        self._by_partition.setdefault(partition, []).append(item)
        self.size += 1

    def drain(self) -> list[tuple[int, bytes]]:
        """(partition, bundle) for every partition with items, or that has not heard the
        frontiers as they are (or for a second); the buffer is left empty."""
        now = time.monotonic()
        marks = self.marks
        bundles = []
        for partition in range(self.partitions):
            items = self._by_partition.get(partition, [])
            told = self._told.get(partition)
            news = told is None or told[0] != self._version or now - told[1] >= HEARTBEAT_S
            if items or (marks and news):
                bundles.append((partition, encode_bundle(items, marks)))
                self._told[partition] = (self._version, now)
        self._by_partition.clear()
        self.size = 0
        return bundles

    async def flush(self, send: SendBundle) -> bool:
        """Send every waiting item, one bundle per partition, and the frontiers where
        they are news; False if no item waited.

        One flush at a time (a timer, the stream and the commit all flush): a bundle
        never overtakes an earlier one bound for the same partition.
        """
        async with self._flushing:
            had_items = self.size > 0
            for partition, bundle in self.drain():
                await send(partition, bundle)
            return had_items
