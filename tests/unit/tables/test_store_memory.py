"""Every RocksDB database of a worker takes its memory from one budget: one block cache
of the configured size, the write buffers and index blocks counted in it."""

from __future__ import annotations

import re
from pathlib import Path

from faust.stores.rocksdb import RocksDBOptions

from riskstream.streams.app import create_faust_app
from riskstream.streams.settings import Settings
from riskstream.tables.faust_tables import account_state_table, entity_state_table
from riskstream.tables.store_memory import MIB, SharedMemoryOptions, StoreMemory


def database_options(path: Path) -> str:
    [options] = path.glob("OPTIONS-*")
    return options.read_text()


def block_caches(path: Path) -> set[tuple[str, int]]:
    """(address, capacity) of the block caches RocksDB's LOG says the database uses."""
    log = (path / "LOG").read_text()
    addresses = re.findall(r"^\s+block_cache: (0x[0-9a-f]+)", log, re.MULTILINE)
    capacities = re.findall(r"^\s+capacity : (\d+)", log, re.MULTILINE)
    return {
        (address, int(capacity)) for address, capacity in zip(addresses, capacities, strict=True)
    }


def test_the_databases_share_one_block_cache_of_the_budget(tmp_path: Path) -> None:
    memory = StoreMemory(64)
    options = SharedMemoryOptions(memory, RocksDBOptions(use_rocksdict=True))
    first = options.open(tmp_path / "p0.db")
    second = options.open(tmp_path / "p1.db")
    first.close()
    second.close()
    [(address, capacity)] = block_caches(tmp_path / "p0.db")
    assert block_caches(tmp_path / "p1.db") == {(address, capacity)}
    assert capacity == 64 * MIB


def test_write_buffers_and_index_blocks_are_bounded_and_counted(tmp_path: Path) -> None:
    memory = StoreMemory(64)
    options = SharedMemoryOptions(memory, RocksDBOptions(use_rocksdict=True))
    database = options.open(tmp_path / "p0.db")
    for i in range(2_000):
        database[f"key-{i}".encode()] = bytes(500)
    # The memtables' memory is charged to the shared cache.
    assert memory.write_buffers.get_usage() > 0
    assert memory.cache.get_usage() >= memory.write_buffers.get_usage()
    usage = memory.usage()
    assert usage["budget"] == 64 * MIB
    assert 0 < usage["write_buffers"] <= usage["bytes"] <= usage["budget"]
    database.close()
    written = database_options(tmp_path / "p0.db")
    assert f"write_buffer_size={8 * MIB}" in written
    assert "max_write_buffer_number=2" in written
    assert "cache_index_and_filter_blocks=true" in written
    assert memory.write_buffer_limit == 32 * MIB


def test_the_state_tables_take_the_workers_budget(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, partitions=2, load_pack=False)
    app = create_faust_app(settings)
    memory = StoreMemory(8)
    for table in (
        account_state_table(app, 2, memory=memory),
        entity_state_table(app, 2, memory=memory),
    ):
        opened = table.table.data.rocksdb_options
        assert isinstance(opened, SharedMemoryOptions)
        assert opened.memory is memory
