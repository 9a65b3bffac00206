"""What the two stages put out: signals, state writes, dead letters, and their counters.

A batch's signals are delivered before its state is written (``write``), and a rejected
message's offset waits until its dead letter is stored (``dead_letter``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.types import Message

from riskstream.agents.breaker import SignalBreaker
from riskstream.agents.live_rules import BatchOut, CoreSignal, Snapshot
from riskstream.agents.validation import Rejection
from riskstream.streams.card_numbers import mask_text
from riskstream.streams.codec import dumps
from riskstream.streams.dead_letter import letter_for, sender_for
from riskstream.streams.outputs import Signal
from riskstream.streams.settings import Settings
from riskstream.tables.faust_tables import RecordTable

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestStats:
    """Counters shown on the console."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    late: int = 0
    failed: int = 0  # events the core could not evaluate (see the log)
    unreadable_records: int = 0  # state records that were not readable: started afresh
    dead_lettered: int = 0
    rerouted: int = 0
    rerouted_partition: int = 0  # the right key on another partition than murmur2's
    rekeyed: int = 0
    behind_watermark: int = 0  # came after their time was final: applied in arrival order
    entity_events: int = 0
    signals: int = 0
    shadow_signals: int = 0
    accounts_expired: int = 0
    rekey_flushes: Counter[str] = field(default_factory=Counter)  # why bundles left
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    signals_by_rule: Counter[str] = field(default_factory=Counter)
    shadow_by_rule: Counter[str] = field(default_factory=Counter)
    # Signals dropped by the circuit breaker (``agents/breaker.py``), by rule.
    signals_dropped_by_rule: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "late": self.late,
            "failed": self.failed,
            "unreadable_records": self.unreadable_records,
            "dead_lettered": self.dead_lettered,
            "rerouted": self.rerouted,
            "rerouted_partition": self.rerouted_partition,
            "rekeyed": self.rekeyed,
            "behind_watermark": self.behind_watermark,
            "entity_events": self.entity_events,
            "signals": self.signals,
            "shadow_signals": self.shadow_signals,
            "accounts_expired": self.accounts_expired,
            "rekey_flushes": dict(self.rekey_flushes),
            "dead_letter_reasons": dict(self.dead_letter_reasons),
            "signals_by_rule": dict(self.signals_by_rule),
            "shadow_by_rule": dict(self.shadow_by_rule),
            "signals_dropped_by_rule": dict(self.signals_dropped_by_rule),
        }


class StageOutput:
    def __init__(self, app: faust.App, settings: Settings, stats: IngestStats) -> None:
        self.stats = stats
        self.signals_topic = app.topic(settings.topics.signals)
        self.dead_letters = sender_for(app, settings)
        self.breaker = SignalBreaker(settings.signals_per_rule_per_s)

    async def write(
        self,
        snapshot: Snapshot,
        table: RecordTable,
        partition: int,
        keys: list[bytes],
        results: list[BatchOut],
        *,
        account: bool,
    ) -> None:
        deliveries: list[Awaitable[Any]] = []
        for key, (_, outcomes, unreadable, _) in zip(keys, results, strict=True):
            self._count_unreadable(unreadable, key)
            deliveries += await self._outcomes(snapshot, outcomes, account=account)
        # Signals first, state after: a state that knows an event was applied knows its
        # signals went out, so a repeat of the event publishes nothing. A crash between
        # the two has the event applied again and its signals published again,
        # byte-identical: the only repeats there are.
        if deliveries:
            await asyncio.gather(*deliveries)
        table.put_many(partition, [(key, out[0]) for key, out in zip(keys, results, strict=True)])
        await table.send_changelog()

    def _count_unreadable(self, reason: str | None, key: bytes) -> None:
        if reason is not None:
            self.stats.unreadable_records += 1
            log.error("state record %r unreadable, started afresh: %s", key[:200], reason)

    async def _outcomes(
        self,
        snapshot: Snapshot,
        outcomes: list[tuple[str, list[CoreSignal], list[CoreSignal], str | None]],
        *,
        account: bool,
    ) -> list[Awaitable[Any]]:
        """Counts the outcomes and publishes their signals; returns their deliveries."""
        stats = self.stats
        deliveries = []
        for status, signals, shadow, error in outcomes:
            if account:
                if status == "applied":
                    stats.applied += 1
                elif status == "duplicate":
                    stats.duplicates += 1
                elif status == "late":
                    stats.late += 1
            else:
                stats.entity_events += 1
            if error is not None:
                stats.failed += 1
                log.error("the core could not evaluate an event: %s", error)
            for item in signals:
                try:
                    signal = snapshot.signal(item)
                except (ValueError, OverflowError) as dressing:
                    # The rule document bounds its TTL; a signal that still cannot be
                    # dressed costs that signal, not the batch it came with.
                    stats.failed += 1
                    log.error("a signal could not be dressed, not published: %r", dressing)
                    continue
                if not self.breaker.allows(signal.rule_id):
                    stats.signals_dropped_by_rule[signal.rule_id] += 1
                    continue
                deliveries.append(await self.publish(signal))
            for item in shadow:
                rule_id = snapshot.groups[item[0]][item[1]].id
                stats.shadow_signals += 1
                stats.shadow_by_rule[rule_id] += 1
        return deliveries

    async def publish(self, signal: Signal) -> Awaitable[Any]:
        """Sends ``signal`` at once (not at the next commit: the scorer should see it
        within the second); returns its delivery. Sent again after a crash, it is
        byte-identical, which consumers dedupe by id."""
        delivery = await self.signals_topic.send(
            key=signal.entity_id.encode(), value=dumps(signal), force=True
        )
        self.stats.signals += 1
        self.stats.signals_by_rule[signal.rule_id] += 1
        return delivery

    async def dead_letter(self, message: Message, rejection: Rejection) -> None:
        """Forward the message with the reason and where it came from. Returns once the
        broker has it, however long that takes: until then the message is not
        acknowledged, so its offset is not committed (``streams/dead_letter.py``)."""
        stored = await self.dead_letters.deliver(
            letter_for(message, rejection.reason, rejection.detail)
        )
        self.stats.dead_lettered += 1
        self.stats.dead_letter_reasons[rejection.reason] += 1
        log.warning(
            "dead-lettered %s: %s (%s)%s",
            where(message), rejection.reason, mask_text(rejection.detail[:200]),
            " (cut short to fit the topic)" if stored.truncated else "",
        )  # fmt: skip


def where(message: Message) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"
