"""The Faust shell around the rule engine.

``ingest`` reads the input topics (keyed by account): validates, dead-letters, applies
the event to its account's state and the account-keyed rules, and forwards it to the
re-key topic once per other key group (device, IP, counterparty ...). ``entities`` reads
the re-key topic, so every event of one device (say) meets in one partition and one
table record, and applies that group's rules.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.types import EventT, Message

from riskstream.agents.batches import PartitionBatches
from riskstream.agents.live_rules import (
    BatchOut,
    CoreSignal,
    LiveRules,
    Snapshot,
    fields_ms,
    projection,
    projection_bytes,
)
from riskstream.agents.partitioning import Rerouter
from riskstream.agents.rekey import RekeyBuffer, RekeyedEvent, decode
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.validation import InvalidEventError, Rejection, parse_event
from riskstream.streams.batching import caught_up
from riskstream.streams.codec import dumps
from riskstream.streams.dead_letter import letter_for, sender_for
from riskstream.streams.outputs import Signal
from riskstream.streams.producer_buffer import DrainingProducerBuffer
from riskstream.streams.settings import Settings
from riskstream.streams.topics import rekey_topic_name
from riskstream.tables.faust_tables import (
    RecordTable,
    await_changelog_metadata,
    topic_partitions,
)

log = logging.getLogger(__name__)
REKEY_LINGER_S = 0.05
INGEST_LINGER_S = 0.02
ENTITY_BATCH_BUNDLES = 8


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
    entity_events: int = 0
    signals: int = 0
    shadow_signals: int = 0
    accounts_expired: int = 0
    rekey_flushes: Counter[str] = field(default_factory=Counter)  # why bundles left
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    signals_by_rule: Counter[str] = field(default_factory=Counter)
    shadow_by_rule: Counter[str] = field(default_factory=Counter)

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
            "entity_events": self.entity_events,
            "signals": self.signals,
            "shadow_signals": self.shadow_signals,
            "accounts_expired": self.accounts_expired,
            "rekey_flushes": dict(self.rekey_flushes),
            "dead_letter_reasons": dict(self.dead_letter_reasons),
            "signals_by_rule": dict(self.signals_by_rule),
            "shadow_by_rule": dict(self.shadow_by_rule),
        }


class IngestPipeline:
    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        center: RuleCenter,
        accounts: RecordTable,
        entities: RecordTable,
    ) -> None:
        names = settings.topics
        self.app = app
        self.settings = settings
        self.center = center
        self.rules = LiveRules(settings.state_cache_mb * 1024 * 1024)
        self.accounts = accounts
        self.entities = entities
        self.stats = IngestStats()
        self.inputs = app.topic(names.transactions, names.account_events, names.feedback)
        self.rekey_topic_name = rekey_topic_name(settings)
        self.rekey_topic = app.topic(self.rekey_topic_name)
        self.rekey = RekeyBuffer(settings.partitions)  # replaced by the topic's own count
        self.batches = PartitionBatches(
            app, self.handle_batch, settings.ingest_batch_max_events, INGEST_LINGER_S
        )
        # Bundles of a partition applied together: a busy merchant's record is written
        # once for them all.
        self.entity_batches = PartitionBatches(
            app, self.handle_rekeyed_batch, ENTITY_BATCH_BUNDLES, INGEST_LINGER_S
        )
        self._flush_hooked = False
        self.signals_topic = app.topic(names.signals)
        self.dead_letters = sender_for(app, settings)
        self.rerouter = Rerouter(
            partition_count=lambda topic: topic_partitions(app, topic),
            topics={name: app.topic(name) for name in self.inputs.topics},
            dead_letter=self.dead_letter,
            counters=self.stats,
        )
        app.agent(self.inputs, name="ingest")(self._ingest_agent)
        app.agent(self.rekey_topic, name="entities")(self._entity_agent)

    async def _ingest_agent(self, stream: faust.StreamT[bytes]) -> None:
        await self.center.ready.wait()
        partitions = await topic_partitions(self.app, self.rekey_topic_name)
        if partitions != self.rekey.partitions:
            await self.flush_rekeyed("restart")  # items of a crashed run, if any
            self.rekey = RekeyBuffer(partitions)
        if not self._flush_hooked:
            # Under load items wait to fill bundles; an event's offset is committed
            # only after a producer flush, which now sends the waiting items first.
            buffer = self.app.producer.buffer
            assert isinstance(buffer, DrainingProducerBuffer)  # see RiskApp._new_producer
            buffer.before_flush.append(lambda: self.flush_rekeyed("commit"))
            buffer.before_flush.append(self.accounts.send_changelog)
            buffer.before_flush.append(self.entities.send_changelog)
            self._flush_hooked = True
        loop = asyncio.get_running_loop()
        linger = loop.create_task(self._linger())
        batch_linger = loop.create_task(self.batches.linger())
        try:
            # Acknowledged by ``batches`` once their batch is applied.
            manual: Any = stream  # Faust's StreamT stub lacks noack()
            async for event in manual.noack().events():
                await self.batches.add(event)
                if self.rekey.size >= self.settings.rekey_bundle_max_items:
                    await self.flush_rekeyed("full")
                elif caught_up(self.app, event):
                    await self.flush_rekeyed("caught_up")
                # A buffered batch would otherwise run without a pause, and score
                # requests on the same event loop wait for all of it.
                await asyncio.sleep(0)
        finally:
            linger.cancel()
            batch_linger.cancel()

    async def _linger(self) -> None:
        """Items never wait much longer than this, whatever the input does."""
        while True:
            await asyncio.sleep(REKEY_LINGER_S)
            await self.flush_rekeyed("linger")

    async def _entity_agent(self, stream: faust.StreamT[bytes]) -> None:
        await self.center.ready.wait()
        await await_changelog_metadata(self.app, self.entities)
        linger = asyncio.get_running_loop().create_task(self.entity_batches.linger())
        try:
            manual: Any = stream  # Faust's StreamT stub lacks noack()
            async for event in manual.noack().events():
                await self.entity_batches.add(event)
                await asyncio.sleep(0)
        finally:
            linger.cancel()

    async def handle_batch(self, partition: int, events: list[EventT[Any]]) -> None:
        """A partition's input events: validated, applied to their accounts (each
        account's record read and written once), forwarded to their other entities."""
        admitted = [item for event in events if (item := await self._admit(event.message))]
        await self.rerouter.settle()
        if not admitted:
            return
        snapshot = self.rules.snapshot(self.center.ruleset)
        by_account: dict[str, list[tuple[bytes, dict[str, Any]]]] = {}
        for account, fields, core_event in admitted:
            by_account.setdefault(account, []).append((core_event, fields))
        keys = [account.encode() for account in by_account]
        stored = self.accounts.get_many(partition, keys)
        batches = [
            (0, account, record, [core for core, _ in items])
            for record, (account, items) in zip(stored, by_account.items(), strict=True)
        ]
        results = await self.rules.run(lambda: snapshot.work(batches, routes=True))
        # A duplicate is written back too: if a crash left the local store ahead of the
        # changelog, this puts the changelog level again.
        await self._write(snapshot, self.accounts, partition, keys, results, account=True)
        # Too late for the account's windows is not too late for a merchant's week:
        # every key group judges lateness against its own horizon.
        groups = snapshot.groups
        for items, (*_, routes) in zip(by_account.values(), results, strict=True):
            for (_, fields), found in zip(items, routes, strict=True):
                if isinstance(found, str):
                    log.warning("event %s: no entity keys: %s", fields.get("event_id"), found)
                    continue
                for group, value in found:
                    self.rekey.add(RekeyedEvent(groups[group][0].key.source, value, fields))
                    self.stats.rekeyed += 1

    async def _write(
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

    async def _admit(self, message: Message) -> tuple[str, dict[str, Any], bytes] | None:
        """A valid event on its account's partition: (account, fields, the core's event);
        anything else is dead-lettered or sent round again to that partition."""
        self.stats.received += 1
        try:
            event = parse_event(
                message.value,
                max_bytes=self.settings.max_message_bytes,
                now_ms=int(time.time() * 1000),
            )
            fields, core_event = projection(event)
        except InvalidEventError as rejected:
            await self.dead_letter(message, rejected.rejection)
            return None
        except Exception as error:  # a bug costs this message, not the agent
            log.exception("event at %s unprocessable", _where(message))
            await self.dead_letter(message, Rejection("unprocessable", repr(error)))
            return None
        if not await self.rerouter.admit(message, event.account_id.encode()):
            return None  # sent round to its account's partition, or dead-lettered
        return event.account_id, fields, core_event

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
                deliveries.append(await self.publish(snapshot.signal(item)))
            for item in shadow:
                rule_id = snapshot.groups[item[0]][item[1]].id
                stats.shadow_signals += 1
                stats.shadow_by_rule[rule_id] += 1
        return deliveries

    async def flush_rekeyed(self, why: str) -> None:
        """Send the buffered items, one bundle per partition. A copy sent again after
        a crash is recognised as a duplicate by the entity record."""
        if await self.rekey.flush(self._send_bundle):
            self.stats.rekey_flushes[why] += 1

    async def _send_bundle(self, partition: int, bundle: bytes) -> None:
        await self.rekey_topic.send(value=bundle, partition=partition, force=True)

    async def handle_rekeyed_batch(self, partition: int, events: list[EventT[Any]]) -> None:
        await self.handle_rekeyed(partition, [event.message for event in events])

    async def handle_rekeyed(self, partition: int, messages: list[Message]) -> None:
        """Re-key messages of one partition: each entity's record is read once and
        written once."""
        snapshot = self.rules.snapshot(self.center.ruleset)
        batches: dict[str, tuple[int, str, list[bytes]]] = {}
        items = [item for message in messages for item in await self._rekeyed_items(message)]
        for item in items:
            group = snapshot.group_index.get(item.group)
            if group is None:
                continue  # the rules of this key were deleted meanwhile
            batch = batches.get(item.table_key)
            if batch is None:
                batch = batches[item.table_key] = (group, item.value, [])
            batch[2].append(projection_bytes(fields_ms(item.fields), item.fields))
        if not batches:
            return
        keys = [table_key.encode() for table_key in batches]
        stored = self.entities.get_many(partition, keys)
        inputs = [
            (group, value, record, events)
            for record, (group, value, events) in zip(stored, batches.values(), strict=True)
        ]
        results = await self.rules.run(lambda: snapshot.work(inputs))
        # A bundle's keys all hash to its partition, the one their records are filed
        # under. A crash before the end has the messages delivered again, and the items
        # already applied are recognised by their event ids.
        await self._write(snapshot, self.entities, partition, keys, results, account=False)

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
            _where(message), rejection.reason, rejection.detail[:200],
            " (cut short to fit the topic)" if stored.truncated else "",
        )  # fmt: skip

    async def _rekeyed_items(self, message: Message) -> list[RekeyedEvent]:
        """The items of a re-key message; one that cannot be read is dead-lettered."""
        try:
            return list(decode(message.key, message.value))
        except Exception as error:  # not written by riskstream, or damaged
            await self.dead_letter(message, Rejection("unreadable_rekey", repr(error)))
            return []


def _where(message: Message) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"
