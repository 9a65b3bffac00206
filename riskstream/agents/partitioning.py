"""Input events on their account's partition, and those elsewhere sent there.

An account's rule state is filed under the partition its events arrive on, and the
scorer asks the worker that owns the account key's murmur2 partition. Producers must
therefore partition by murmur2 of the account id (Kafka's Java client, kafka-python,
aiokafka). A message keyed by something else, or keyed right but placed by another hash
(librdkafka's default is crc32), would split the account's state over two partitions and
lose detections silently. Ingest checks every input message and produces a misplaced one
again, to the partition a murmur2 producer would have chosen: one more hop, counted and
logged. A message sent round this way lands there by construction; one that carries the
re-route header and is still elsewhere (the topic grew partitions meanwhile, or a
producer copied the header) is dead-lettered, never sent round a second time.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from functools import lru_cache
from typing import Any, Protocol

from aiokafka.partitioner import murmur2

from riskstream.agents.validation import Rejection

REROUTED_HEADER = "riskstream.rerouted-from"
MISROUTED_REASON = "misrouted"
REROUTE_FAILED_REASON = "reroute_failed"
PARTITION_COUNT_TTL_S = 60.0  # a topic that grows partitions is seen within this
SUMMARY_INTERVAL_S = 60.0
KEY_CACHE_SIZE = 1 << 16

log = logging.getLogger(__name__)


@lru_cache(maxsize=KEY_CACHE_SIZE)
def murmur2_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's Java producer gives ``key``: toPositive(murmur2(key)) mod n."""
    # Cached: aiokafka's murmur2 is pure Python (microseconds), and an account's key
    # comes again and again.
    return (int(murmur2(key)) & 0x7FFFFFFF) % partitions


class Placement(Enum):
    HOME = "home"  # under its account's key, on that key's partition: apply it here
    WRONG_KEY = "wrong_key"  # keyed by something else: send it round under the right key
    WRONG_PARTITION = "wrong_partition"  # the right key, placed by another hash
    STRANDED = "stranded"  # sent round once already and still not home: dead-letter


def place(
    *, key: bytes | None, account_key: bytes, partition: int, home: int, headers: Any
) -> Placement:
    """What to do with a message: ``home`` is the murmur2 partition of ``account_key``."""
    if key == account_key and partition == home:
        return Placement.HOME  # the common case, decided without reading the headers
    if rerouted_from(headers) is not None:
        return Placement.STRANDED
    return Placement.WRONG_KEY if key != account_key else Placement.WRONG_PARTITION


class InputMessage(Protocol):
    """What is read of an input message (Faust's ``Message`` has it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any  # a list of (name, value) pairs, a mapping, or None


def header_items(headers: Any) -> list[tuple[str, bytes | None]]:
    """The headers as (name, value) pairs, in order; Kafka allows a null value."""
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return [(str(name), value) for name, value in headers]


def rerouted_from(headers: Any) -> bytes | None:
    """Where a worker re-routed the message from, if one did."""
    return next((value for name, value in header_items(headers) if name == REROUTED_HEADER), None)


class PartitionCounts:
    """Partition counts by topic, asked again after ``ttl_s``: a topic may grow partitions."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[int]],
        ttl_s: float = PARTITION_COUNT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._clock = clock
        self._known: dict[str, tuple[int, float]] = {}  # topic: (count, good until)

    async def of(self, topic: str) -> int:
        now = self._clock()
        known = self._known.get(topic)
        if known is not None and now < known[1]:
            return known[0]
        count = await self._fetch(topic)
        self._known[topic] = (count, now + self._ttl_s)
        return count


class RerouteLog:
    """The first re-route of each kind in full, then one summary line per interval: a
    misconfigured producer sends thousands a second, and each would say the same."""

    def __init__(
        self, interval_s: float = SUMMARY_INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._seen: set[Placement] = set()
        self._pending: Counter[tuple[Placement, str]] = Counter()
        self._since = clock()

    def note(self, placement: Placement, topic: str, detail: str) -> None:
        now = self._clock()
        if placement not in self._seen:
            self._seen.add(placement)
            log.warning(
                "%s. Later ones are counted on /stats/ and summarised every %.0f s",
                detail, self._interval_s,
            )  # fmt: skip
            return
        self._pending[placement, topic] += 1
        if now - self._since >= self._interval_s:
            summary = ", ".join(
                f"{count} {kind.value} on {name}" for (kind, name), count in self._pending.items()
            )
            log.warning(
                "sent round to their account's partition in %.0f s: %s", now - self._since, summary
            )
            self._pending.clear()
            self._since = now


class RerouteCounters(Protocol):
    rerouted: int
    rerouted_partition: int


DeadLetter = Callable[[Any, Rejection], Awaitable[None]]


class CopyWatch(Protocol):
    """Told of each copy sent round, so the home partition's event clock can wait for
    it (``agents/stage_clocks.py``); ``origin`` is the copy's re-route header value."""

    def sent(self, topic: str, partition: int, origin: bytes, ts_ms: int) -> None: ...

    def lost(self, topic: str, partition: int, origin: bytes) -> None: ...


class Rerouter:
    """Admits input messages that are home; sends the others there, or dead-letters them.

    ``topics`` are the input topics by name (Faust topics: ``send`` with key, value,
    partition and headers).
    """

    def __init__(
        self,
        partition_count: Callable[[str], Awaitable[int]],
        topics: Mapping[str, Any],
        dead_letter: DeadLetter,
        counters: RerouteCounters,
        log: RerouteLog | None = None,
        copies: CopyWatch | None = None,
    ) -> None:
        self.partitions = PartitionCounts(partition_count)
        self._topics = topics
        self._dead_letter = dead_letter
        self._counters = counters
        self._log = log or RerouteLog()
        self._copies = copies
        # Copies handed to the producer, not yet known to be stored: see ``settle``.
        self._sent: list[tuple[InputMessage, int, bytes, Awaitable[Any]]] = []

    async def admit(self, message: InputMessage, account_key: bytes, ts_ms: int = 0) -> bool:
        """True: apply the message here. False: it was sent round to its account's
        partition (``ts_ms``: its event time), or dead-lettered, and is done with here."""
        partitions = await self.partitions.of(message.topic)
        home = murmur2_partition(account_key, partitions)
        placement = place(
            key=message.key,
            account_key=account_key,
            partition=message.partition,
            home=home,
            headers=message.headers,
        )
        if placement is Placement.HOME:
            return True
        where = f"{message.topic}/{message.partition}/{message.offset}"
        if placement is Placement.STRANDED:
            detail = (
                f"re-routed once already (from {rerouted_from(message.headers)!r}), yet on "
                f"partition {message.partition} of {partitions}; its account's is {home}"
            )
            await self._dead_letter(message, Rejection(MISROUTED_REASON, detail))
            return False
        origin = where.encode()
        if self._copies is not None:  # before the send: the copy may come back first
            self._copies.sent(message.topic, home, origin, ts_ms)
        try:
            delivery = await self._topics[message.topic].send(
                key=account_key,
                value=message.value,
                partition=home,
                headers=[*header_items(message.headers), (REROUTED_HEADER, origin)],
            )
        except BaseException:
            if self._copies is not None:
                self._copies.lost(message.topic, home, origin)
            raise
        self._sent.append((message, home, origin, delivery))
        if placement is Placement.WRONG_KEY:
            self._counters.rerouted += 1
            what = f"keyed {message.key!r}, not by its account id {account_key!r}"
        else:
            self._counters.rerouted_partition += 1
            what = (
                f"keyed {account_key!r} but not on its murmur2 partition: its producer "
                "does not partition as Kafka's Java client does"
            )
        self._log.note(placement, message.topic, f"{where} {what}; sent to partition {home}")
        return False

    async def settle(self) -> None:
        """Waits until every copy sent round is stored; one the broker refuses is
        dead-lettered instead. The caller acknowledges the originals only after this, so
        no offset is committed for a message that is in no topic."""
        sent, self._sent = self._sent, []
        for message, home, origin, delivery in sent:
            try:
                await delivery
            except Exception as error:  # refused: keep it in the dead-letter topic
                if self._copies is not None:
                    self._copies.lost(message.topic, home, origin)
                detail = f"could not be sent to its account's partition: {error!r}"
                await self._dead_letter(message, Rejection(REROUTE_FAILED_REASON, detail))
