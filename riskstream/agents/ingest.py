"""The Faust shell around the rule engine.

``ingest`` reads the input topics (keyed by account): validates, dead-letters, applies
the event to its account's state and the account-keyed rules, and forwards it to the
re-key topic once per other key group (device, IP, counterparty ...). ``entities`` reads
the re-key topic, so every event of one device (say) meets in one partition and one
table record, and applies that group's rules. Both hold each event until its event time
is final and apply events in (time, id) order (``agents/event_time.py``), as replay does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust
from faust.types import EventT, Message

from riskstream.agents.acks import OrderedAcks
from riskstream.agents.batches import PartitionBatches
from riskstream.agents.live_rules import (
    LiveRules,
    fields_ms,
    projection,
    projection_bytes,
)
from riskstream.agents.partitioning import Rerouter
from riskstream.agents.rekey import Marks, RekeyBuffer, RekeyedEvent, decode_message
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.stage_clocks import EntityClocks, InputClocks, Tracked
from riskstream.agents.stage_output import IngestStats, StageOutput, where
from riskstream.agents.stage_timing import StageTimings
from riskstream.agents.validation import InvalidEventError, Rejection, parse_event
from riskstream.streams.batching import caught_up
from riskstream.streams.producer_buffer import DrainingProducerBuffer
from riskstream.streams.redaction import tokeniser_for
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


@dataclass(frozen=True, slots=True)
class Admitted:
    """A valid input event on its account's partition."""

    account: str
    event_id: str
    ts_ms: int
    fields: dict[str, Any]
    core_event: bytes  # as the core reads it


class IngestPipeline:
    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        center: RuleCenter,
        accounts: RecordTable,
        entities: RecordTable,
        on_slow: Callable[[list[tuple[str, float]], float], object] | None = None,
    ) -> None:
        names = settings.topics
        self.app = app
        self.settings = settings
        self.center = center
        self.tokeniser = tokeniser_for(settings)
        self.rules = LiveRules(
            settings.state_cache_mb * 1024 * 1024,
            time_budget_ms=settings.rule_time_budget_ms,
            # A rule too slow to run is disabled here, and by ``on_slow`` everywhere.
            on_slow=on_slow or center.suspend_slow,
        )
        self.accounts = accounts
        self.entities = entities
        self.stats = IngestStats()
        self.timings = StageTimings()
        self.output = StageOutput(app, settings, self.stats)
        self.inputs = app.topic(names.transactions, names.account_events, names.feedback)
        self.rekey_topic_name = rekey_topic_name(settings)
        self.rekey_topic = app.topic(self.rekey_topic_name)
        self.rekey = RekeyBuffer(settings.partitions)  # replaced by the topic's own count
        # Events finish out of offset order (held until final): acknowledged in order.
        self.acks = OrderedAcks(app)
        self.batches = PartitionBatches(
            app, self.handle_batch, settings.ingest_batch_max_events, INGEST_LINGER_S, self.acks
        )
        # Bundles of a partition applied together: a busy merchant's record is written
        # once for them all.
        self.entity_batches = PartitionBatches(
            app, self.handle_rekeyed_batch, ENTITY_BATCH_BUNDLES, INGEST_LINGER_S, self.acks
        )
        # Input events, then re-keyed ones, held until their event time is final.
        self.clocks: InputClocks[tuple[EventT[Any], Admitted]] = InputClocks(
            app,
            self.inputs.topics,
            delay_ms=int(settings.watermark_delay_s * 1000),
            idle_s=settings.idle_source_s,
            waits=self.timings.ingest_held,
        )
        self.entity_clocks: EntityClocks[tuple[RekeyedEvent, Tracked]] = EntityClocks(
            self.timings.entity_held
        )
        self.holding = True  # off from a rebalance's start until its partitions come
        self._flush_hooked = False
        self.rerouter = Rerouter(
            partition_count=lambda topic: topic_partitions(app, topic),
            topics={name: app.topic(name) for name in self.inputs.topics},
            dead_letter=self.output.dead_letter,
            counters=self.stats,
            copies=self.clocks,
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
        """Items never wait much longer than this, whatever the input does; events
        final by time alone (a source fell idle) are applied."""
        while True:
            await asyncio.sleep(REKEY_LINGER_S)
            try:
                await self.release_all()
                await self.flush_rekeyed("linger")
            except asyncio.CancelledError:
                raise
            except Exception:  # the timer must outlive it, or held events wait for good
                log.exception("releasing final events failed; trying again")

    def _streaming(self) -> bool:
        """Whether the stream partitions flow: not until a rebalance's table recovery
        has ended (Faust then seeks them to the committed offsets), when a source that
        has told nothing yet could look idle on a stale high-water mark."""
        return not self.app.rebalancing

    def _input_partitions(self) -> set[int]:
        try:
            assigned = self.app.consumer.assignment()
        except Exception:  # the consumer is not started yet
            return set()
        inputs = self.inputs.topics
        return {tp.partition for tp in assigned if tp.topic in inputs}

    def stop_holding(self) -> None:
        """A rebalance or a stop begins: from now on events read are not held."""
        self.holding = False

    async def let_go(self) -> None:
        """At a rebalance or a stop, once no more events flow: every held event, and any
        read after it, is let go unapplied and unacknowledged, and the consumer, which
        reads again from the committed offsets, delivers it again. Faust then waits for
        none of them; a batch in progress finishes first."""
        self.holding = False
        await self.batches.settle()
        await self.entity_batches.settle()
        self.clocks.forget()
        self.entity_clocks.forget()
        self.acks.abandon_all()
        self.rekey.withdraw()

    def resume_holding(self) -> None:
        self.holding = True

    def _held_share(self, clocks: dict[int, Any]) -> int:
        """What one partition of a stage may hold: the worker's bound, shared."""
        return max(1, self.settings.max_held_events // max(1, len(clocks)))

    @property
    def held(self) -> int:
        inputs = sum(len(clock) for clock in self.clocks.clocks.values())
        return inputs + sum(len(clock) for clock in self.entity_clocks.clocks.values())

    async def _entity_agent(self, stream: faust.StreamT[bytes]) -> None:
        await self.center.ready.wait()
        await await_changelog_metadata(self.app, self.entities)
        inputs = [await topic_partitions(self.app, name) for name in self.inputs.topics]
        self.entity_clocks.sources = max(inputs)
        linger = asyncio.get_running_loop().create_task(self.entity_batches.linger())
        try:
            manual: Any = stream  # Faust's StreamT stub lacks noack()
            async for event in manual.noack().events():
                await self.entity_batches.add(event)
                await asyncio.sleep(0)
        finally:
            linger.cancel()

    async def handle_batch(self, partition: int, events: list[EventT[Any]]) -> list[EventT[Any]]:
        """A partition's input events: validated, then held until their event time is
        final (``agents/event_time.py``); returns the events held, acknowledged once
        applied. Invalid and misplaced events are dead-lettered or sent round."""
        admitted: list[tuple[EventT[Any], Admitted]] = []
        self.timings.ingest_arrival.extend(_since_written(events))
        for event in events:
            item, ts_ms = await self._admit(event.message)
            self.clocks.saw(event.message, ts_ms)
            if item is not None:
                admitted.append((event, item))
        await self.rerouter.settle()
        if not self.holding:  # a rebalance has begun: delivered again after it
            return [event for event, _ in admitted]
        clock = self.clocks.clock(partition)
        for event, item in admitted:
            if not clock.hold(item.ts_ms, item.event_id, (event, item)):
                self.stats.behind_watermark += 1
        await self._release(partition)
        return [event for event, _ in admitted]

    async def release_all(self) -> None:
        """Applies what has become final with time alone (a source fell idle), and has
        every input partition held here announce its frontier, read from or not: the
        entity stage waits to hear from each."""
        if not self.holding or not self._streaming():
            return
        for partition in self._input_partitions():
            self.clocks.clock(partition)
        for partition in list(self.clocks.clocks):
            async with self.batches.lock(partition):
                if partition in self.clocks.clocks:
                    await self._release(partition)

    async def _release(self, partition: int) -> None:
        """Applies the partition's final events and announces its frontier (under the
        partition's batch lock)."""
        clock = self.clocks.refresh(partition)
        ready = clock.release(at_most=self._held_share(self.clocks.clocks))
        if ready:
            began = time.monotonic()
            try:
                await self._apply(partition, [item for _, item in ready])
            except Exception:  # a bug: one event at a time, to cost only the culprits
                log.exception("a batch of %d events failed; applying one by one", len(ready))
                for event, item in ready:
                    await self._apply_alone(partition, event, item)
            for event, _ in ready:
                self.acks.done(event)
            self.timings.ingest_applied.add(time.monotonic() - began)
            final_s = time.time() - self.settings.watermark_delay_s
            self.timings.ingest_after_final.extend(final_s - i.ts_ms / 1000 for _, i in ready)
        self.rekey.announce(partition, clock.frontier_ms, clock.all_idle)

    async def _apply_alone(self, partition: int, event: EventT[Any], item: Admitted) -> None:
        """``item`` applied alone; dead-lettered if it fails alone too."""
        try:
            await self._apply(partition, [item])
        except Exception as error:
            log.exception("event at %s unprocessable", where(event.message))
            await self.output.dead_letter(event.message, Rejection("unprocessable", repr(error)))

    async def _apply(self, partition: int, admitted: list[Admitted]) -> None:
        """Events applied to their accounts in (time, id) order (each account's record
        read and written once), and forwarded to their other entities."""
        snapshot = self.rules.snapshot(self.center.ruleset)
        by_account: dict[str, list[Admitted]] = {}
        for item in admitted:
            by_account.setdefault(item.account, []).append(item)
        keys = [account.encode() for account in by_account]
        stored = self.accounts.get_many(partition, keys)
        batches = [
            (0, account, record, [item.core_event for item in items])
            for record, (account, items) in zip(stored, by_account.items(), strict=True)
        ]
        results = await self.rules.apply(snapshot, batches, routes=True)
        # A duplicate is written back too: if a crash left the local store ahead of the
        # changelog, this puts the changelog level again.
        await self.output.write(snapshot, self.accounts, partition, keys, results, account=True)
        # Too late for the account's windows is not too late for a merchant's week:
        # every key group judges lateness against its own horizon.
        groups = snapshot.groups
        for items, (*_, routes) in zip(by_account.values(), results, strict=True):
            for item, found in zip(items, routes, strict=True):
                if isinstance(found, str):
                    log.warning("event %s: no entity keys: %s", item.event_id, found)
                    continue
                for group, value in found:
                    self.rekey.add(RekeyedEvent(groups[group][0].key.source, value, item.fields))
                    self.stats.rekeyed += 1

    async def _admit(self, message: Message) -> tuple[Admitted | None, int | None]:
        """A valid event on its account's partition, and the event time of any valid
        event; anything else is dead-lettered or sent round again to that partition."""
        self.stats.received += 1
        try:
            event = parse_event(
                message.value,
                max_bytes=self.settings.max_message_bytes,
                now_ms=int(time.time() * 1000),
                redact=self.tokeniser.tokenise,
            )
            fields, core_event = projection(event)
        except InvalidEventError as rejected:
            await self.output.dead_letter(message, rejected.rejection)
            return None, None
        except Exception as error:  # a bug costs this message, not the agent
            log.exception("event at %s unprocessable", where(message))
            await self.output.dead_letter(message, Rejection("unprocessable", repr(error)))
            return None, None
        ts_ms = event.occurred_ms
        if not await self.rerouter.admit(message, event.account_id.encode(), ts_ms):
            return None, ts_ms  # sent round to its account's partition, or dead-lettered
        return Admitted(event.account_id, event.event_id, ts_ms, fields, core_event), ts_ms

    async def flush_rekeyed(self, why: str) -> None:
        """Send the buffered items, one bundle per partition. A copy sent again after
        a crash is recognised as a duplicate by the entity record."""
        if await self.rekey.flush(self._send_bundle):
            self.stats.rekey_flushes[why] += 1

    async def _send_bundle(self, partition: int, bundle: bytes) -> None:
        await self.rekey_topic.send(value=bundle, partition=partition, force=True)

    async def handle_rekeyed_batch(
        self, partition: int, events: list[EventT[Any]]
    ) -> list[EventT[Any]]:
        """Re-key messages of one partition: their items held until final (their
        frontiers announced by every ingest partition), then applied in (time, id)
        order; returns the messages whose items wait, acknowledged when all are applied."""
        if not self.holding:  # a rebalance has begun: delivered again after it
            return events
        clock = self.entity_clocks.clock(partition)
        kept: list[EventT[Any]] = []
        ready: list[tuple[RekeyedEvent, Tracked]] = []
        self.timings.entity_arrival.extend(_since_written(events))
        for event in events:
            items, marks = await self._rekeyed_message(event.message)
            for source, (frontier, idle) in (marks or {}).items():
                clock.bound(source, frontier, idle=idle)
            if not items:
                continue
            tracked = Tracked(event, len(items), self.acks.done)
            kept.append(event)
            for item in items:
                if marks is None:  # an older build's: no frontier to wait for
                    ready.append((item, tracked))
                elif not clock.hold(
                    fields_ms(item.fields), str(item.fields.get("event_id", "")), (item, tracked)
                ):
                    self.stats.behind_watermark += 1
        ready += clock.release(at_most=self._held_share(self.entity_clocks.clocks))
        began = time.monotonic()
        await self.handle_rekeyed(partition, [item for item, _ in ready])
        if ready:
            self.timings.entity_applied.add(time.monotonic() - began)
            final_s = time.time() - self.settings.watermark_delay_s
            self.timings.entity_after_final.extend(
                final_s - fields_ms(item.fields) / 1000 for item, _ in ready
            )
        for _, tracked in ready:
            tracked.done()
        return kept

    async def handle_rekeyed(self, partition: int, items: list[RekeyedEvent]) -> None:
        """Re-keyed events of one partition, in the order given: each entity's record is
        read once and written once."""
        snapshot = self.rules.snapshot(self.center.ruleset)
        batches: dict[str, tuple[int, str, list[bytes]]] = {}
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
        results = await self.rules.apply(snapshot, inputs)
        # A bundle's keys all hash to its partition, the one their records are filed
        # under. A crash before the end has the messages delivered again, and the items
        # already applied are recognised by their event ids.
        await self.output.write(snapshot, self.entities, partition, keys, results, account=False)

    async def _rekeyed_message(self, message: Message) -> tuple[list[RekeyedEvent], Marks | None]:
        """The items and frontiers of a re-key message; one that cannot be read is
        dead-lettered."""
        try:
            return decode_message(message.key, message.value)
        except Exception as error:  # not written by riskstream, or damaged
            await self.output.dead_letter(message, Rejection("unreadable_rekey", repr(error)))
            return [], None


def _since_written(events: list[EventT[Any]]) -> list[float]:
    """Seconds from each message's producer time (Kafka's record timestamp) to now."""
    now = time.time()
    return [now - event.message.timestamp for event in events]
