"""What the scorer needs of the process it runs in, and the worker's way of giving it.

The scorer (``agents/scorer.py``) decides the same way in a worker and in a scorer
process of its own (``riskstream scorer``, ``riskstream/scorer_service.py``); what
differs is where its background tasks run, how it produces records, and where it finds
an account's rule state: in a worker, the Faust app and the account-state table the
stream writes; in a scorer process, plain asyncio, an aiokafka producer and a replica
of that table's changelog (``agents/account_replica.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import faust

from riskstream.tables.faust_tables import RecordTable, topic_partitions

Work = Callable[[], Coroutine[Any, Any, None]]


class ScorerHost(Protocol):
    # True where other processes may judge the same event id at the same time (scorer
    # instances behind a load balancer): an answer waits for its decision to be read
    # back from the decisions topic (agents/decision_memory.py).
    confirms_decisions: bool

    def start(self, name: str, work: Work) -> None:
        """Run ``work`` in the background for the life of the process."""
        ...

    async def partitions(self, topic: str) -> int:
        """How many partitions ``topic`` has."""
        ...

    async def send(
        self,
        topic: str,
        key: bytes,
        value: bytes | None,
        partition: int | None = None,
        *,
        acked: bool = True,
    ) -> None:
        """Produce a record (``partition`` None: the key's); with ``acked``, return once
        the broker has it, else once it is on its way (its failure logged)."""
        ...

    def account_record(self, account_id: str) -> bytes | None:
        """The account's stored rule state record (None: none yet)."""
        ...


class WorkerHost:
    """The scorer in a worker: its tasks are the app's, its state the table's."""

    confirms_decisions = False

    def __init__(self, app: faust.App, accounts: RecordTable) -> None:
        self.app = app
        self.accounts = accounts
        self._topics: dict[str, Any] = {}

    def start(self, name: str, work: Work) -> None:
        async def task() -> None:
            await work()

        task.__name__ = task.__qualname__ = name  # how Faust names it in its logs
        self.app.task(task)

    async def partitions(self, topic: str) -> int:
        return await topic_partitions(self.app, topic)

    async def send(
        self,
        topic: str,
        key: bytes,
        value: bytes | None,
        partition: int | None = None,
        *,
        acked: bool = True,
    ) -> None:
        # Handed to Faust's producer, acked or not (as the worker always has): its
        # flush before each offset commit waits for it.
        channel = self._topics.get(topic)
        if channel is None:
            channel = self._topics[topic] = self.app.topic(topic)
        await channel.send(key=key, value=value, partition=partition, force=True)

    def account_record(self, account_id: str) -> bytes | None:
        stored: bytes | None = self.accounts.table.get(account_id.encode())
        return stored
