"""The worker's audit trail writer: one hash chain per worker process.

Penalty changes (``agents/scorer.py``) and rule suspensions (``agents/rule_suspender.py``)
are linked into the same chain, so a worker has one chain whatever it records.
"""

from __future__ import annotations

import asyncio
import socket

import faust

from riskstream.streams.audit_chain import AuditChain
from riskstream.streams.scoring_model import AuditRecord


def worker_name(app_id: str) -> str:
    """Who a worker is in the audit trail: its app id and host."""
    return f"worker:{app_id}:{socket.gethostname()}"


class WorkerAudit:
    def __init__(self, app: faust.App, topic: str, name: str) -> None:
        self.app = app
        self.topic = topic
        self.chain = AuditChain(name)
        self.lock = asyncio.Lock()

    async def store(self, record: AuditRecord, key: bytes) -> None:
        """Stores the audit line, linked into this worker's chain, and waits for the
        broker to have it. One at a time: a chain's entries reach the topic in order, and
        one that could not be stored is taken back before the next is linked."""
        async with self.lock:
            stored = self.chain.seal(record)
            try:
                await self.app.producer.send_and_wait(
                    self.topic, key, stored, partition=None, timestamp=None, headers=None
                )
            except BaseException:
                self.chain.undo()
                raise
