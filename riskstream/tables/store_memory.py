"""One RocksDB memory budget for the whole worker, shared by all its databases.

Faust opens a RocksDB database per table and partition (standby copies included), each
with a block cache and write buffers of its own, so a worker's store memory grew with
the partitions it held (2 tables x 8 partitions x the per-database figure). Here every
database shares one block cache; their write buffers (memtables) and their index and
filter blocks are charged to it too, so RocksDB's memory is the one configured figure,
however many partitions, keys and bytes the worker holds.
"""

from __future__ import annotations

from typing import Any

import rocksdict
from faust.stores.rocksdb import RocksDBOptions
from faust.stores.rocksdb import Store as RocksDBStore

MIB = 1024 * 1024


class StoreMemory:
    """The block cache and write buffer manager every database of a worker shares."""

    def __init__(self, megabytes: int) -> None:
        self.budget = max(megabytes, 2) * MIB
        self.cache = rocksdict.Cache(self.budget)
        # Memtables take at most half the budget, counted in the cache (which then
        # holds fewer blocks): RocksDB flushes the biggest when they would take more.
        self.write_buffer_limit = self.budget // 2
        self.write_buffers = rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(
            self.write_buffer_limit, False, self.cache
        )
        # One database's memtable is flushed at this size even when the others are idle.
        self.write_buffer_size = max(self.write_buffer_limit // 4, MIB)

    def usage(self) -> dict[str, int]:
        """Bytes in use: the whole cache (blocks, memtables, index and filter blocks),
        of which memtables, and the budget."""
        return {
            "bytes": self.cache.get_usage(),
            "write_buffers": self.write_buffers.get_usage(),
            "budget": self.budget,
        }


class SharedMemoryOptions(RocksDBOptions):
    """Faust's options of one table's databases, their memory taken from ``memory``."""

    def __init__(self, memory: StoreMemory, base: RocksDBOptions) -> None:
        super().__init__(
            max_open_files=base.max_open_files,
            write_buffer_size=memory.write_buffer_size,
            max_write_buffer_number=2,
            target_file_size_base=base.target_file_size_base,
            bloom_filter_size=base.bloom_filter_size,
            use_rocksdict=True,
            ttl=base.ttl,
        )
        self.memory = memory

    def as_options(self) -> Any:
        # Faust's own (faust/stores/rocksdb.py) makes a cache per database.
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        if self.max_open_files is not None:
            options.set_max_open_files(self.max_open_files)
        options.set_target_file_size_base(self.target_file_size_base)
        options.set_write_buffer_size(self.write_buffer_size)
        options.set_max_write_buffer_number(self.max_write_buffer_number)
        options.set_write_buffer_manager(self.memory.write_buffers)
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, block_based=True)
        table.set_block_cache(self.memory.cache)
        # Index and filter blocks grow with the data: in the cache, they are bounded
        # with the rest; level 0's stay pinned, as they are read on every lookup.
        table.set_cache_index_and_filter_blocks(True)
        table.set_pin_l0_filter_and_index_blocks_in_cache(True)
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        return options


def share_store_memory(table: Any, memory: StoreMemory) -> None:
    """Have the databases of Faust ``table`` take their memory from ``memory``; before
    any is opened (they open when partitions are assigned). A table on another store
    (the tests' ``memory://``) is left as it is."""
    store = table.data
    if isinstance(store, RocksDBStore) and store.use_rocksdict:
        store.rocksdb_options = SharedMemoryOptions(memory, store.rocksdb_options)
