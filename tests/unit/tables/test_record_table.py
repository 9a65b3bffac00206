"""RecordTable's batch path: local writes, changelog batches in write order, persisted
offsets set on delivery, and a refused batch stopping the worker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch
from aiokafka.structs import RecordMetadata, TopicPartition
from rocksdict import Options, Rdict

from riskstream.tables.faust_tables import RecordTable

TOPIC = "app-entity-state-changelog"


class FakeClient:
    """The aiokafka producer's batch calls; delivers batches with growing offsets."""

    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[tuple[int, list[tuple[bytes, bytes | None]]]] = []
        self.next_offset: dict[int, int] = {}
        self.refuse = refuse

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(16_384, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        assert topic == TOPIC
        records = [(r.key, r.value) for r in _records(batch)]
        self.sent.append((partition, records))
        delivery: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        if self.refuse:
            delivery.set_exception(RuntimeError("MessageSizeTooLarge"))
            return delivery
        offset = self.next_offset.get(partition, 0)
        self.next_offset[partition] = offset + len(records)
        tp = TopicPartition(topic, partition)
        delivery.set_result(RecordMetadata(topic, partition, tp, offset, -1, 0, 0))
        return delivery


def _records(batch: BatchBuilder) -> list[Any]:
    return list(DefaultRecordBatch(bytes(batch._builder.build())))


class Store:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._dbs: dict[int, Rdict] = {}
        self._key_index: dict[bytes, int] = {}
        self.persisted: dict[int, int] = {}

    def _db_for_partition(self, partition: int) -> Rdict:
        if partition not in self._dbs:
            path = str(self.folder / str(partition))
            self._dbs[partition] = Rdict(path, options=Options(raw_mode=True))
        return self._dbs[partition]

    def set_persisted_offset(self, tp: TopicPartition, offset: int) -> None:
        self.persisted[tp.partition] = offset

    def _visible_items(self, db: Rdict) -> Any:
        return db.items()


def table_with(tmp_path: Path, client: FakeClient) -> tuple[RecordTable, Store, list[Any]]:
    store = Store(tmp_path)
    crashes: list[Any] = []

    async def crash(reason: BaseException) -> None:
        crashes.append(reason)

    app: Any = SimpleNamespace(
        producer=SimpleNamespace(_ensure_producer=lambda: client), crash=crash
    )
    changelog = SimpleNamespace(get_topic_name=lambda: TOPIC)
    faust_table = SimpleNamespace(data=store, name="entity-state", changelog_topic=changelog)
    return RecordTable(app, faust_table), store, crashes


async def test_writes_are_local_at_once_and_in_the_changelog_in_order(tmp_path: Path) -> None:
    client = FakeClient()
    table, store, _ = table_with(tmp_path, client)
    table.put_many(3, [(b"a", b"1"), (b"b", b"2")])
    table.put_many(3, [(b"a", b"3"), (b"b", None)])
    assert table.get_many(3, [b"a", b"b", b"c"]) == [b"3", None, None]
    assert table.get_many(4, [b"a"]) == [None]  # another partition's database
    assert table.waiting == 4 and client.sent == []
    await table.send_changelog()
    await asyncio.sleep(0)  # delivery callbacks
    assert client.sent == [(3, [(b"a", b"1"), (b"b", b"2"), (b"a", b"3"), (b"b", None)])]
    assert store.persisted == {3: 3}  # the offset of the batch's last record
    assert table.waiting == 0
    assert store._key_index == {b"a": 3}


async def test_a_record_bigger_than_a_batch_goes_alone(tmp_path: Path) -> None:
    client = FakeClient()
    table, store, _ = table_with(tmp_path, client)
    big = b"x" * 100_000
    table.put_many(0, [(b"small", b"1"), (b"big", big), (b"after", b"2")])
    await table.send_changelog()
    await asyncio.sleep(0)
    assert [len(records) for _, records in client.sent] == [1, 1, 1]
    assert client.sent[1][1] == [(b"big", big)]
    assert store.persisted == {0: 2}


async def test_a_refused_batch_stops_the_worker_and_later_sends(tmp_path: Path) -> None:
    client = FakeClient(refuse=True)
    table, store, crashes = table_with(tmp_path, client)
    table.put_many(1, [(b"k", b"v")])
    await table.send_changelog()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(crashes) == 1 and store.persisted == {}
    table.put_many(1, [(b"k", b"w")])
    with pytest.raises(RuntimeError, match="refused"):
        await table.send_changelog()  # so the offset commit that flushes first fails too


def test_partitions_lists_each_database(tmp_path: Path) -> None:
    table, _, _ = table_with(tmp_path, FakeClient())
    table.put_many(2, [(b"a", b"1")])
    table.put_many(5, [(b"b", b"2")])
    assert sorted((p, list(items)) for p, items in table.partitions()) == [
        (2, [(b"a", b"1")]),
        (5, [(b"b", b"2")]),
    ]
