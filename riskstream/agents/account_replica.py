"""Every account's rule state, as the workers last wrote it, for a scorer process.

The workers keep an account's rule state (and so its daily total) in the account-state
table; every write to it goes to the table's changelog topic (compacted, key = account
id, value = the core's versioned state record, None = deleted). A scorer process reads
that topic from its start and then follows it, outside any consumer group, into a
RocksDB database of its own: every instance holds every account, so any instance answers
any account without asking a worker. The database is made anew at each start (the topic
is the truth), and its memory is one budget (``RISKSTREAM_SCORER_STORE_MB``): the
records beyond it are on disk (docs/adr/0009-scorer-process.md).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import rocksdict
from faust.stores.rocksdb import RocksDBOptions

from riskstream.tables.store_memory import SharedMemoryOptions, StoreMemory


class AccountReplica:
    """A local copy of the account-state changelog; ``ready`` once read to its end."""

    def __init__(self, folder: Path, megabytes: int) -> None:
        self.folder = folder
        self.memory = StoreMemory(megabytes)
        shutil.rmtree(folder, ignore_errors=True)  # what a previous run left: read anew
        folder.mkdir(parents=True, exist_ok=True)
        self.db = rocksdict.Rdict(
            str(folder), SharedMemoryOptions(self.memory, RocksDBOptions()).as_options()
        )
        writes = rocksdict.WriteOptions()
        # Rebuilt from the topic after a crash anyway. (A property, stubbed as a method.)
        writes.disable_wal = True  # type: ignore[method-assign,assignment]
        self.db.set_write_options(writes)
        self.ready = asyncio.Event()
        self.applied = 0

    def apply_record(self, record: Any) -> None:
        """A record of the changelog: the account's state now (None: deleted)."""
        key = record.key
        if not isinstance(key, bytes) or not key:
            raise ValueError("a state record needs the account id as its key")
        if record.value is None:
            self.db.delete(key)
        else:
            self.db.put(key, bytes(record.value))
        self.applied += 1

    def get(self, account_id: str) -> bytes | None:
        found: bytes | None = self.db.get(account_id.encode())
        return found

    def close(self) -> None:
        self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)
