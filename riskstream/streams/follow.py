"""Following a topic on every worker, outside any consumer group.

The rules, the penalties and the signals are small enough for every worker to hold all
of them, and every worker must see every change; so each worker reads these topics in
full itself instead of sharing their partitions. ``ready`` is set once everything that
was in the topic when the follower started has been applied.

Anyone who may write to a topic may write anything to it: a record that cannot be
applied is refused with its reason in the log, and the follower goes on with the next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from riskstream.streams.freshness import TopicFreshness
from riskstream.streams.kafka_security import client_options
from riskstream.streams.quiet_logs import RepeatFilter
from riskstream.streams.settings import Settings

log = logging.getLogger(__name__)
# The broker answers a follower's fetch as soon as a record arrives, and an idle one
# after this: how fresh a follower is stays known to within it (streams/freshness.py).
FOLLOWER_FETCH_WAIT_MS = 500
# How often a topic followed a partition per consumer is asked for its partitions again.
PARTITIONS_RECHECK_S = 60.0
RETRY_FIRST_S = 2.0
RETRY_CAP_S = 60.0
FAILURE_SUMMARY_S = 300.0

Apply = Callable[[Any], None]


def follower_options(settings: Settings) -> dict[str, Any]:
    """A follower's client options: the login's, and its fetch wait."""
    return client_options(settings) | {"fetch_max_wait_ms": FOLLOWER_FETCH_WAIT_MS}


async def follow_topic(
    connection: Mapping[str, Any],
    topic: str,
    apply: Apply,
    ready: asyncio.Event,
    *,
    since_ms: Callable[[], int] | None = None,
    tail: int | None = None,
    stop: asyncio.Event | None = None,
    freshness: TopicFreshness | None = None,
    partition: int | None = None,
    recheck_s: float = PARTITIONS_RECHECK_S,
) -> None:
    """Apply every record of ``topic`` (of ``partition`` only, if given; from
    ``since_ms()`` if given, else the start; never more than the last ``tail`` records of
    a partition if given), then keep following it. ``connection``: the client's
    bootstrap and security arguments (:func:`follower_options`). Connection trouble is
    retried, ever more slowly while it lasts (:class:`Backoff`), and logged once, then
    summed up once per interval (a refused login would otherwise be a line every 2 s,
    for ever). ``freshness``: told where the follower stands after each poll. Following
    the whole topic, its partitions are counted again every ``recheck_s``: those added
    meanwhile are read from their start."""
    backoff = Backoff()
    failed = _failure_log(topic)

    def connected() -> None:
        if backoff.failures:
            log.warning("following %s again after %d failed attempts", topic, backoff.failures)
        backoff.reset()

    while stop is None or not stop.is_set():
        try:
            await _follow(
                connection, topic, apply, ready, since_ms, tail, stop, connected, freshness,
                partition, recheck_s,
            )  # fmt: skip
        # Kafka's errors, and any other (a TLS error is an OSError): a follower that ends
        # leaves its worker deaf to every later rule or penalty.
        except Exception as error:
            delay = backoff.next_delay()
            failed.error("following %s failed, retrying in %.0f s: %r", topic, delay, error)
            if await _stopped(stop, delay):
                return


@dataclass(slots=True)
class Backoff:
    """The wait before each retry: ``first_s``, doubled after each failure in a row, at
    most ``cap_s``; back to ``first_s`` once a connection is made."""

    first_s: float = RETRY_FIRST_S
    cap_s: float = RETRY_CAP_S
    failures: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap_s, self.first_s * 2.0 ** min(self.failures, 30))
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


# One kind of line per topic (its own logger): the first failure in full, then one
# summary per interval of the repeats held back (streams/quiet_logs.py).
FAILURES = RepeatFilter(FAILURE_SUMMARY_S)


def _failure_log(topic: str) -> logging.Logger:
    logger = logging.getLogger(f"{__name__}.{topic}")
    if FAILURES not in logger.filters:
        logger.addFilter(FAILURES)
    return logger


async def _stopped(stop: asyncio.Event | None, delay_s: float) -> bool:
    """Wait ``delay_s``, or less if ``stop`` is set meanwhile; whether it is."""
    if stop is None:
        await asyncio.sleep(delay_s)
        return False
    try:
        await asyncio.wait_for(stop.wait(), delay_s)
    except TimeoutError:
        return False
    return True


async def _follow(
    connection: Mapping[str, Any],
    topic: str,
    apply: Apply,
    ready: asyncio.Event,
    since_ms: Callable[[], int] | None,
    tail: int | None,
    stop: asyncio.Event | None,
    connected: Callable[[], None],
    freshness: TopicFreshness | None = None,
    partition: int | None = None,
    recheck_s: float = PARTITIONS_RECHECK_S,
) -> None:
    # Partitions assigned by hand, never through a subscription: without a group, a
    # subscribed consumer given a new partition by a metadata update is assigned the
    # topic anew, and every partition starts again from its beginning.
    consumer = AIOKafkaConsumer(
        **connection, enable_auto_commit=False, group_id=None, auto_offset_reset="earliest"
    )
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()  # what a refused start opened, closed before the next try
        raise
    connected()
    try:
        if partition is not None:
            consumer.assign([TopicPartition(topic, partition)])
        else:
            # "Caught up" over no partitions would be a lie: wait for the topic.
            count = await _partition_count(connection, topic, stop)
            consumer.assign([TopicPartition(topic, number) for number in range(count)])
        assigned = sorted(consumer.assignment())
        # Offsets taken first, then seeked to explicitly: with seek_to_beginning and
        # seek_to_end, a signal published as the worker started was sometimes never read
        # (the scorer retry test, about one run in two; the cause in aiokafka is unknown).
        ends = await consumer.end_offsets(assigned)
        starts = await consumer.beginning_offsets(assigned)
        if since_ms is not None:
            found = await consumer.offsets_for_times(dict.fromkeys(assigned, since_ms()))
            starts = {tp: ends[tp] if found[tp] is None else found[tp].offset for tp in assigned}
        for each in assigned:
            start = starts[each] if tail is None else max(starts[each], ends[each] - tail)
            consumer.seek(each, start)
        if freshness is not None:
            freshness.assigned(tp.partition for tp in assigned)
        counted_at = time.monotonic()
        while stop is None or not stop.is_set():
            if partition is None and time.monotonic() - counted_at >= recheck_s:
                counted_at = time.monotonic()
                count = await _partition_count(connection, topic, stop)
                assigned = await _follow_new_partitions(consumer, topic, count, assigned, freshness)
            batches = await consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    apply_untrusted(topic, apply, record)
            if freshness is not None:
                await _observe(consumer, assigned, freshness)
            if not ready.is_set():
                positions = {tp: await consumer.position(tp) for tp in assigned}
                # (a partition added since the start has nothing it must catch up with)
                if all(positions[tp] >= ends.get(tp, 0) for tp in assigned):
                    ready.set()
                    log.info("caught up with %s", topic)
    finally:
        await consumer.stop()


async def follow_partitions(
    connection: Mapping[str, Any],
    topic: str,
    apply: Apply,
    ready: asyncio.Event,
    *,
    since_ms: Callable[[], int] | None = None,
    tail: int | None = None,
    stop: asyncio.Event | None = None,
    freshness: TopicFreshness | None = None,
    recheck_s: float = PARTITIONS_RECHECK_S,
) -> None:
    """:func:`follow_topic`, a consumer for each of the topic's partitions. aiokafka
    sends one fetch at a time to a broker, for the partitions it holds no unread records
    of: in one consumer, a partition whose records were being applied when that fetch
    left waits for its answer, up to the fetch wait. A reader that needs each record as
    soon as it is stored (a decision read back) follows each partition apart. ``ready``
    once every partition there was at the start is caught up. Every ``recheck_s`` the
    partitions are counted again: a topic given more partitions (to spread more load)
    has its new ones followed from their start, without a restart."""
    count = await _partition_count(connection, topic, stop)
    if count == 0:
        return  # stopped before the topic could be seen
    caught_up = [asyncio.Event() for _ in range(count)]

    def follow_one(partition: int, ready_one: asyncio.Event) -> Coroutine[Any, Any, None]:
        return follow_topic(
            connection, topic, apply, ready_one, since_ms=since_ms, tail=tail, stop=stop,
            freshness=freshness, partition=partition,
        )  # fmt: skip

    async def all_caught_up() -> None:
        for event in caught_up:
            await event.wait()
        ready.set()

    async with asyncio.TaskGroup() as followers:
        followers.create_task(all_caught_up())
        for partition in range(count):
            followers.create_task(follow_one(partition, caught_up[partition]))
        known = count
        while not await _stopped(stop, recheck_s):
            now = await _partition_count(connection, topic, stop)
            if now > known:
                log.warning("%s has %d partitions now, %d before: following the new ones",
                            topic, now, known)  # fmt: skip
                for partition in range(known, now):
                    followers.create_task(follow_one(partition, asyncio.Event()))
                known = now


async def _partition_count(
    connection: Mapping[str, Any], topic: str, stop: asyncio.Event | None
) -> int:
    """How many partitions ``topic`` has (waiting for it to exist, retrying trouble);
    0 if ``stop`` was set meanwhile."""
    backoff = Backoff()
    while True:
        consumer = AIOKafkaConsumer(topic, **connection, enable_auto_commit=False, group_id=None)
        try:
            await consumer.start()
            polls = 0
            while not consumer.assignment():
                await asyncio.sleep(0.05)
                polls += 1
                if polls % 100 == 0:
                    log.warning("topic %s not found yet", topic)
            return len(consumer.assignment())
        except Exception as error:  # as follow_topic: retried, never the follower's end
            delay = backoff.next_delay()
            log.error("counting the partitions of %s failed, retrying in %.0f s: %r",
                      topic, delay, error)  # fmt: skip
            if await _stopped(stop, delay):
                return 0
        finally:
            await consumer.stop()


async def _follow_new_partitions(
    consumer: AIOKafkaConsumer,
    topic: str,
    count: int,
    assigned: list[TopicPartition],
    freshness: TopicFreshness | None,
) -> list[TopicPartition]:
    """The topic's ``count`` partitions, with those added since ``assigned`` followed
    from their start and the others where the follower stands."""
    now = [TopicPartition(topic, number) for number in range(count)]
    added = sorted(set(now) - set(assigned))
    if not added:
        return assigned
    log.warning("%s has %d partitions now, %d before: following the new ones",
                topic, len(now), len(assigned))  # fmt: skip
    positions = {tp: await consumer.position(tp) for tp in assigned}
    starts = await consumer.beginning_offsets(added)
    consumer.assign(now)  # an assignment made anew: every position is set again below
    for tp, offset in (positions | starts).items():
        consumer.seek(tp, offset)
    if freshness is not None:
        freshness.assigned(tp.partition for tp in added)
    return sorted(now)


async def _observe(
    consumer: AIOKafkaConsumer, assigned: list[Any], freshness: TopicFreshness
) -> None:
    for partition in assigned:
        freshness.observe(
            partition.partition,
            await consumer.position(partition),
            consumer.highwater(partition),
            consumer.last_poll_timestamp(partition),
        )


def apply_untrusted(topic: str, apply: Apply, record: Any) -> bool:
    """``apply(record)``; False, with the reason logged, when it raised."""
    try:
        apply(record)
    # Whatever a hostile record makes ``apply`` raise, the follower must outlive it:
    # one stopped follower leaves its worker deaf to every later rule or penalty.
    except Exception as error:
        log.error(
            "%s: record at partition %s offset %s refused: %s: %s",
            topic,
            getattr(record, "partition", "?"),
            getattr(record, "offset", "?"),
            type(error).__name__,
            str(error)[:300],
        )
        return False
    return True
