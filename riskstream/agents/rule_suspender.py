"""Telling every worker about a rule too slow to run.

A rule version one of whose evaluations overran ``RISKSTREAM_RULE_TIME_BUDGET_MS`` is
disabled on the worker that timed it at once (``RuleCenter.suspend_slow``); this worker
then writes an audit line (the worker as actor, the time measured as reason) and, once the
broker has stored it, a :class:`RuleSuspension` to the suspensions topic, which every
worker follows (``RuleCenter.apply_suspension``), after a restart too.

No loop: a suspension read from the topic disables a rule without timing it, so it is
never published again; and a worker publishes a rule version at most once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from riskstream.agents.rule_center import RuleCenter
from riskstream.streams.rule_suspension import RuleSuspension
from riskstream.streams.scoring_model import AuditRecord

log = logging.getLogger(__name__)

StoreAudit = Callable[[AuditRecord, bytes], Awaitable[None]]
Send = Callable[[bytes, bytes], Awaitable[None]]  # key, value to the suspensions topic


class RuleSuspender:
    def __init__(self, center: RuleCenter, worker: str, store_audit: StoreAudit, send: Send):
        self.center = center
        self.worker = worker
        self.store_audit = store_audit
        self.send = send
        self.published: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def on_slow(self, slow: list[tuple[str, float]], budget_ms: float) -> None:
        """Rules (id, milliseconds) that overran ``budget_ms``: disabled here now, and
        published for every worker in the background (the caller is an agent's batch or
        a score request, which must not wait for the broker)."""
        for rule_id, version, kind, took_ms in self.center.suspend_slow(slow, budget_ms):
            if (rule_id, version) in self.published:
                continue
            self.published.add((rule_id, version))
            try:
                suspension = RuleSuspension(
                    rule_id=rule_id, version=version, kind=kind, took_ms=took_ms,
                    budget_ms=budget_ms, worker=self.worker, at=datetime.now(UTC),
                )  # fmt: skip
            # Out of the record's bounds (a worker name over 200 characters, say): the
            # batch or request that timed the rule must not fail for it.
            except ValidationError as error:
                log.error("rule %s v%s is disabled on this worker only: %s",
                          rule_id, version, error.errors()[0]["msg"])  # fmt: skip
                continue
            task = asyncio.get_running_loop().create_task(self.publish(suspension))
            self._tasks.add(task)  # held, or the loop may collect it unfinished
            task.add_done_callback(self._tasks.discard)

    async def publish(self, suspension: RuleSuspension) -> None:
        """The audit line, stored first, then the suspension; a failure is logged (the
        rule stays disabled on this worker), never raised."""
        key = suspension.rule_id.encode()
        current = self.center.doc(suspension.rule_id)
        if current is None or current.version != suspension.version:
            # A new version came meanwhile: suspending the old one would tell nothing,
            # and, written after the new one's suspension, would replace it in the
            # compacted topic.
            return
        record = AuditRecord.model_validate({
            "at": suspension.at, "actor": self.worker, "action": "rule-suspend",
            "reason": f"rule {suspension.rule_id} v{suspension.version} disabled: "
                      f"{suspension.reason}",
            "suspension": suspension,
        })  # fmt: skip
        try:
            await self.store_audit(record, key)
            await self.send(key, suspension.encode())
        except Exception as error:
            log.error(
                "rule %s v%s is disabled on this worker only: its suspension could not be "
                "published: %r",
                suspension.rule_id,
                suspension.version,
                error,
            )
            return
        log.warning(
            "rule %s v%s suspended on every worker: %s",
            suspension.rule_id,
            suspension.version,
            suspension.reason,
        )

    async def drain(self) -> None:
        """Wait for the publications under way (tests, a stopping worker)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
