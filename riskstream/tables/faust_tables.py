"""The Faust tables (RocksDB-backed, changelogged) that hold riskstream's state.

Faust takes a table's serializer from its value type's Faust options, which pydantic
models and dataclasses lack (faust-streaming #556); so tables hold raw bytes and
:class:`StateTable` turns them into state objects through the one codec.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Generic, TypeVar

import faust
from aiokafka.errors import KafkaError

from riskstream.streams.codec import WireState, dumps, loads
from riskstream.tables.entity_state import EntityState

StateT = TypeVar("StateT", bound=WireState)
log = logging.getLogger(__name__)

ACCOUNT_STATE = "account-state"
ENTITY_STATE = "entity-state"


class StateTable(Generic[StateT]):
    """A typed view of a bytes-valued Faust table, keyed by ``str``."""

    def __init__(self, table: Any, state: type[StateT], cache_size: int = 10_000) -> None:
        self.table = table
        self.state = state
        # key -> (bytes last set, the object set): see ``get_for_update``.
        self._cache: OrderedDict[str, tuple[bytes, StateT]] = OrderedDict()
        self._cache_size = cache_size
        self.cache_hits = 0
        self.cache_misses = 0

    def get(self, key: str) -> StateT | None:
        """A fresh object, decoded from the stored bytes: the caller may change it freely."""
        raw = self.table.get(key.encode())
        return None if raw is None else self.state.from_wire(loads(raw))

    def get_for_update(self, key: str) -> StateT | None:
        """The state to change and ``set`` back: the very object last set under ``key``
        while the stored bytes are still those it was set with (no decoding, and what it
        keeps beside its record, such as running windows, lives on); else decoded.
        Only for one caller that always sets back what it got."""
        raw = self.table.get(key.encode())
        if raw is None:
            self._cache.pop(key, None)
            return None
        # Handed out once: an update that fails before its ``set`` leaves nothing behind.
        cached = self._cache.pop(key, None)
        if cached is not None and cached[0] == raw:
            self.cache_hits += 1
            return cached[1]
        self.cache_misses += 1
        return self.state.from_wire(loads(raw))

    def set(self, key: str, value: StateT) -> None:
        raw = dumps(value.to_wire())
        self.table[key.encode()] = raw
        if self._cache_size:
            self._cache[key] = (raw, value)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


async def topic_partitions(app: faust.App, topic: str) -> int:
    """How many partitions ``topic`` has, from the producer's metadata (fetched if need be).

    A table that partitions its keys itself (``use_partitioner``) asks the producer
    for a key's partition synchronously, from metadata the producer fetches only when
    it first sends to the topic; until then every write fails (aiokafka's partitioner
    finds no partitions). Fetching it first avoids that.
    """
    while True:
        try:
            # Faust exposes no call for it; its aiokafka producer does.
            producer: Any = app.producer
            return len(await producer._ensure_producer().partitions_for(topic))
        except KafkaError as error:
            log.warning("no metadata for %s yet, retrying: %r", topic, error)
            await asyncio.sleep(1)


async def await_changelog_metadata(app: faust.App, table: StateTable[Any]) -> None:
    """Wait until the producer knows the partitions of the table's changelog topic."""
    await topic_partitions(app, table.table.changelog_topic.get_topic_name())


def _table(
    app: faust.App,
    name: str,
    partitions: int,
    help_text: str,
    *,
    use_partitioner: bool,
    record_max: int | None,
) -> Any:
    return app.Table(
        name,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        help=help_text,
        use_partitioner=use_partitioner,
        extra_topic_configs={"max.message.bytes": str(record_max)} if record_max else None,
    )


def account_state_table(
    app: faust.App, partitions: int, record_max: int | None = None
) -> StateTable[EntityState]:
    """Rule state per account, keyed by the account id (the input topics' message key)."""
    # Changelog writes follow the partition the event came on: upstream producers may
    # use another partitioner than ours (librdkafka's default is not murmur2).
    table = _table(
        app, ACCOUNT_STATE, partitions, "Rule state per account.", use_partitioner=False,
        record_max=record_max,
    )  # fmt: skip
    return StateTable(table, EntityState)


def entity_state_table(
    app: faust.App, partitions: int, record_max: int | None = None
) -> StateTable[EntityState]:
    """Rule state per other entity (device, IP, counterparty ...), keyed by the re-key
    topic's message key: ``<key expression>\\x1f<key value>``."""
    # We produce the re-key topic ourselves, with the partitioner Faust also uses for
    # changelogs, so records can be deleted outside a stream (the janitor does).
    table = _table(
        app, ENTITY_STATE, partitions, "Rule state per device, IP, merchant ...",
        use_partitioner=True, record_max=record_max,
    )  # fmt: skip
    return StateTable(table, EntityState)
