"""The Faust tables (RocksDB-backed, changelogged) that hold riskstream's state.

Values are raw bytes: the native core's versioned state records (``native/src/codec.rs``),
which only the core reads and writes. Faust would take a serializer from the value
type's Faust options, which our types lack (faust-streaming #556).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import faust
from aiokafka.errors import KafkaError
from rocksdict import WriteBatch

from riskstream.streams.topics import ACCOUNT_STATE_TABLE
from riskstream.tables.store_memory import StoreMemory, share_store_memory

log = logging.getLogger(__name__)

ACCOUNT_STATE = ACCOUNT_STATE_TABLE
ENTITY_STATE = "entity-state"


class RecordTable:
    """A bytes-valued Faust table of the core's state records, keyed by bytes, read and
    written a partition's batch at a time.

    Faust's own path costs one changelog message's worth of Python per write (a
    ``FutureMessage``, its buffer, its callback, a RocksDB write of the persisted
    offset), which was most of the worker's time. Here a batch's records go to the
    partition's RocksDB database in one write batch and to the changelog as one Kafka
    record batch, whose delivery sets the persisted offset once. The changelog's format
    and Faust's recovery from it are unchanged.

    Changelog records wait in an outbox, in the order of their writes, until
    ``send_changelog``; the producer's flush (before every offset commit) sends them
    first (``DrainingProducerBuffer.before_flush``), so no input offset is committed
    before its state is in the changelog. A changelog batch the broker refuses stops
    the worker: the local store is then ahead of the changelog, and only a restart from
    the last commit puts them level again.
    """

    def __init__(self, app: faust.App, table: Any) -> None:
        self.app = app
        self.table = table
        self._outbox: dict[int, list[tuple[bytes, bytes | None]]] = {}
        self._sending = asyncio.Lock()
        self.changelog_batches = 0
        self.failure: BaseException | None = None
        self._crashing: asyncio.Future[None] | None = None

    def _database(self, partition: int) -> Any:
        # Faust's RocksDB store keeps one database per partition (rocksdict ``Rdict``).
        return self.table.data._db_for_partition(partition)

    def get_many(self, partition: int, keys: list[bytes]) -> list[bytes | None]:
        """The stored records of ``keys`` in ``partition``'s database (None: none)."""
        if not keys:
            return []
        found: list[bytes | None] = self._database(partition).get(keys)
        return found

    def partitions(self) -> Iterator[tuple[int, Iterator[tuple[bytes, bytes]]]]:
        """(partition, its stored records) for every partition this worker has a
        database of, standby copies included."""
        store = self.table.data
        for partition, database in list(store._dbs.items()):
            yield partition, store._visible_items(database)

    def put_many(self, partition: int, items: Sequence[tuple[bytes, bytes | None]]) -> None:
        """Write (key, record) pairs to ``partition``; a record of None deletes its key."""
        if not items:
            return
        batch = WriteBatch(raw_mode=True)
        index = self.table.data._key_index  # where Faust's own reads look first
        for key, value in items:
            if value is None:
                batch.delete(key)
                index.pop(key, None)
            else:
                batch.put(key, value)
                index[key] = partition
        self._database(partition).write(batch)
        self._outbox.setdefault(partition, []).extend(items)

    @property
    def waiting(self) -> int:
        """Changelog records written locally and not yet handed to the producer."""
        return sum(map(len, self._outbox.values()))

    async def send_changelog(self) -> None:
        """Hand every waiting changelog record to the producer, in write order."""
        async with self._sending:
            if self.failure is not None:
                raise RuntimeError("a changelog batch was refused") from self.failure
            while self._outbox:
                partition, items = self._outbox.popitem()
                await self._send(partition, items)

    async def _send(self, partition: int, items: list[tuple[bytes, bytes | None]]) -> None:
        producer: Any = self.app.producer
        client = producer._ensure_producer()  # the aiokafka producer Faust runs
        topic = self.table.changelog_topic.get_topic_name()
        start = 0
        while start < len(items):
            batch = client.create_batch()
            end = start
            # A batch takes at least one record, whatever its size.
            while end < len(items):
                key, value = items[end]
                if batch.append(key=key, value=value, timestamp=None) is None:
                    break
                end += 1
            batch.close()
            delivery = await client.send_batch(batch, topic, partition=partition)
            delivery.add_done_callback(functools.partial(self._delivered, end - start))
            self.changelog_batches += 1
            start = end

    def _delivered(self, count: int, delivery: asyncio.Future[Any]) -> None:
        if delivery.cancelled():
            return
        error = delivery.exception()
        if error is not None:
            self.failure = error
            log.critical("changelog batch of %s refused, stopping: %r", self.table.name, error)
            self._crashing = asyncio.ensure_future(self.app.crash(error))
            return
        sent = delivery.result()
        # What Faust's own write path records per message: recovery reads on from here.
        self.table.data.set_persisted_offset(sent.topic_partition, sent.offset + count - 1)


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


async def await_changelog_metadata(app: faust.App, table: RecordTable) -> None:
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
    memory: StoreMemory | None,
) -> Any:
    table = app.Table(
        name,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        help=help_text,
        use_partitioner=use_partitioner,
        extra_topic_configs={"max.message.bytes": str(record_max)} if record_max else None,
    )
    # Without the worker's budget (tests), a small one of the table's own.
    share_store_memory(table, memory or StoreMemory(16))
    return table


def account_state_table(
    app: faust.App,
    partitions: int,
    record_max: int | None = None,
    memory: StoreMemory | None = None,
) -> RecordTable:
    """Rule state per account, keyed by the account id (the input topics' message key)."""
    # Records are filed under the partition the event came on, which ingest makes the
    # account's murmur2 partition (a misplaced event is sent there first:
    # agents/partitioning.py), so Faust's own lookups find them where murmur2 says.
    table = _table(
        app, ACCOUNT_STATE, partitions, "Rule state per account.", use_partitioner=False,
        record_max=record_max, memory=memory,
    )  # fmt: skip
    return RecordTable(app, table)


def entity_state_table(
    app: faust.App,
    partitions: int,
    record_max: int | None = None,
    memory: StoreMemory | None = None,
) -> RecordTable:
    """Rule state per other entity (device, IP, counterparty ...), keyed by the re-key
    topic's message key: ``<key expression>\\x1f<key value>``."""
    # We produce the re-key topic ourselves, with the partitioner Faust also uses for
    # changelogs, so records can be deleted outside a stream (the janitor does).
    table = _table(
        app, ENTITY_STATE, partitions, "Rule state per device, IP, merchant ...",
        use_partitioner=True, record_max=record_max, memory=memory,
    )  # fmt: skip
    return RecordTable(app, table)
