"""The re-key topic's wire: events forwarded to the entity stage, bundled by partition.

An event meets ~3 entities besides its account (device, IP, merchant ...). One Kafka
message per entity made the entity stage pay Faust's and aiokafka's per-message cost
several times per event; a bundle carries every item bound for one partition. Items of
a bundle all hash to its partition, with the partitioner Faust also uses for the entity
table's changelog, so an entity's record and its events stay on one partition number.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka.partitioner import DefaultPartitioner

from riskstream.streams.codec import dumps, loads

KEY_SEPARATOR = "\x1f"
BUNDLE_FORMAT = 1
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


def encode_bundle(items: list[RekeyedEvent]) -> bytes:
    return dumps({"bundle": BUNDLE_FORMAT, "items": [item.to_wire() for item in items]})


def decode(key: bytes | None, value: bytes | None) -> Iterator[RekeyedEvent]:
    """The items of one re-key message: a bundle, or a single item as older builds
    wrote them (keyed by its table key), which may still sit on the topic after an
    upgrade. Messages not written by riskstream yield nothing."""
    if value is None:
        return
    body = loads(value)
    if not isinstance(body, dict):
        return
    if body.get("bundle") == BUNDLE_FORMAT:
        for item in body["items"]:
            yield RekeyedEvent.from_wire(item)
    elif key is not None and {"g", "k", "f"} <= body.keys():
        yield RekeyedEvent.from_wire(body)


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

    def add(self, item: RekeyedEvent) -> None:
        partition = partition_of(item.table_key, self.partitions)
        self._by_partition.setdefault(partition, []).append(item)
        self.size += 1

    def drain(self) -> list[tuple[int, bytes]]:
        """(partition, bundle) for every partition with items; the buffer is left empty."""
        bundles = [(p, encode_bundle(items)) for p, items in sorted(self._by_partition.items())]
        self._by_partition.clear()
        self.size = 0
        return bundles

    async def flush(self, send: SendBundle) -> bool:
        """Send every waiting item, one bundle per partition; False if none waited.

        One flush at a time (a timer, the stream and the commit all flush): a bundle
        never overtakes an earlier one bound for the same partition.
        """
        async with self._flushing:
            if not self.size:
                return False
            for partition, bundle in self.drain():
                await send(partition, bundle)
            return True
