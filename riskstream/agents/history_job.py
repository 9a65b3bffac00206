"""The scheduled build of long-horizon profiles from the topics (``riskstream profiles
build --from-topics``, and the worker leader's crontab).

A build takes up the previous one's state from the profiles topic, reads the input
topics (transactions, account events, feedback) up to their ends as they stand when it
starts, feeds the builder the events no build has fed yet, in event-time order, and
publishes every entity's profile and state; an entity gone from the state gets a
tombstone. The inputs keep a week (feedback four), so the state carried from build to
build is what holds ninety days.

Which events a build feeds: those that occurred by its ``as_of`` and were appended to
their topic by its ``inputs_until`` (by the record's Kafka timestamp; its start, less
``RISKSTREAM_PROFILES_SETTLE_S`` for records still in flight), less those the previous
build fed by the same rule. So every event is fed exactly once, a late one (appended
after a build that its event time belonged to) by the next build.

Blocking kafka-python: the worker runs it in a thread.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition

from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.streams.events import Event
from riskstream.streams.kafka_io import producer
from riskstream.streams.kafka_security import client_options
from riskstream.streams.redaction import tokeniser_for
from riskstream.streams.settings import Settings
from riskstream.streams.topics import topic_max_message_bytes
from riskstream.tables.history import EntityKey, HistoryBuilder
from riskstream.tables.history_book import RefusedRecordError, decode, encode
from riskstream.tables.history_summary import Snapshot, take_snapshot

log = logging.getLogger(__name__)
# stage, done, total (None: unknown)
Progress = Callable[[str, int, int | None], None]
DEFAULT_MAX_RECORD_BYTES = 1_000_000  # Kafka's default max.message.bytes, less headroom
_HEADROOM = 4096


def _quiet(stage: str, done: int, total: int | None) -> None:
    """No progress shown."""


@dataclass(slots=True)
class BuildReport:
    as_of_ms: int = 0
    resumed_from_ms: int | None = None  # the previous build's as_of, if one was taken up
    resumed_inputs_until_ms: int | None = None  # and its inputs_until (None: an archive's)
    inputs_until_ms: int | None = None
    entities_resumed: int = 0
    events_fed: int = 0
    events_skipped: int = 0  # already in the previous build, or after as_of
    refused: Counter[str] = field(default_factory=Counter)  # bad records, by reason
    unmatched_verdicts: int = 0
    entities: int = 0
    published: int = 0
    tombstones: int = 0
    state_left_out: int = 0  # records published without their state (too large)


def read_to_end(settings: Settings, topic: str) -> Iterator[object]:
    """Every record of ``topic`` up to its end as it is now (outside any group)."""
    source = KafkaConsumer(
        **client_options(settings),
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=1000,
    )
    try:
        partitions = source.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, number) for number in sorted(partitions)]
        if not assigned:
            return
        source.assign(assigned)
        source.seek_to_beginning(*assigned)
        ends = source.end_offsets(assigned)
        left = {tp for tp in assigned if ends[tp] > source.position(tp)}
        while left:
            batches = source.poll(timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
            left = {tp for tp in left if source.position(tp) < ends[tp]}
    finally:
        source.close()


def take_up_previous(
    settings: Settings, report: BuildReport, progress: Progress = _quiet
) -> tuple[HistoryBuilder, set[EntityKey]]:
    """A builder holding the newest published state, and the keys published so far."""
    builder = HistoryBuilder()
    published: set[EntityKey] = set()
    newest: dict[EntityKey, tuple[int, dict[str, object]]] = {}
    inputs_until: dict[int, int | None] = {}  # as_of -> that build's inputs_until
    for number, record in enumerate(read_to_end(settings, settings.topics.profiles), 1):
        try:
            entity, body = decode(record.key, record.value)  # type: ignore[attr-defined]
        except RefusedRecordError as error:
            report.refused[f"profiles:{error.reason}"] += 1
            continue
        if body is None:
            published.discard(entity)
            newest.pop(entity, None)
            continue
        published.add(entity)
        inputs_until[body["as_of_ms"]] = body.get("inputs_until_ms")
        if "state" in body and body["as_of_ms"] >= newest.get(entity, (-1, {}))[0]:
            newest[entity] = (body["as_of_ms"], body["state"])
        if number % 10_000 == 0:
            progress("previous profiles", number, None)
    resumed = max((as_of for as_of, _ in newest.values()), default=None)
    for entity, (_, state) in newest.items():
        try:
            builder.load(entity, state)
        except (KeyError, TypeError, ValueError) as error:
            report.refused[f"profiles:bad_state:{type(error).__name__}"] += 1
    report.resumed_from_ms = resumed
    report.resumed_inputs_until_ms = inputs_until.get(resumed) if resumed is not None else None
    report.entities_resumed = len(builder.entities)
    return builder, published


def fed_by(as_of_ms: int | None, inputs_until_ms: int | None, at_ms: int, ts_ms: int) -> bool:
    """Whether a build (``as_of_ms``, ``inputs_until_ms``) fed an event of time ``at_ms``
    appended at ``ts_ms``; one from an archive (no inputs_until) fed what occurred by
    its as_of."""
    if as_of_ms is None or at_ms > as_of_ms:
        return False
    return inputs_until_ms is None or ts_ms <= inputs_until_ms


def read_inputs(
    settings: Settings,
    until_ms: int,
    report: BuildReport,
    progress: Progress = _quiet,
) -> list[Event]:
    """The input topics' events this build feeds (the module's doc), in event-time
    order; card numbers tokenised as the ingest does, bad records counted by reason."""
    inputs_until = report.inputs_until_ms
    assert inputs_until is not None
    previous = (report.resumed_from_ms, report.resumed_inputs_until_ms)
    names = settings.topics
    redact = tokeniser_for(settings).tokenise
    events: list[Event] = []
    read = 0
    for topic in (names.transactions, names.account_events, names.feedback):
        for record in read_to_end(settings, topic):
            read += 1
            if read % 10_000 == 0:
                progress("reading the topics", read, None)
            try:
                event = parse_event(
                    record.value,  # type: ignore[attr-defined]
                    max_bytes=settings.max_message_bytes,
                    redact=redact,
                )
            except InvalidEventError as rejected:
                report.refused[f"{topic}:{rejected.rejection.reason}"] += 1
                continue
            at_ms, ts_ms = event.occurred_ms, record.timestamp  # type: ignore[attr-defined]
            if not fed_by(until_ms, inputs_until, at_ms, ts_ms) or fed_by(*previous, at_ms, ts_ms):
                report.events_skipped += 1
                continue
            events.append(event)
    events.sort(key=lambda event: event.occurred_ms)  # stable: a topic's order kept on ties
    return events


def feed(
    builder: HistoryBuilder,
    events: Iterable[Event],
    as_of_ms: int,
    report: BuildReport,
    progress: Progress = _quiet,
    total: int | None = None,
) -> Snapshot:
    """Feed ``events`` (event-time order) and take the snapshot ``as_of_ms``."""
    for number, event in enumerate(events, 1):
        builder.feed(event)
        report.events_fed += 1
        if number % 5_000 == 0:
            progress("building", number, total)
    snapshot = take_snapshot(builder, as_of_ms)
    report.as_of_ms = as_of_ms
    report.entities = len(snapshot)
    report.unmatched_verdicts = builder.unmatched_verdicts
    return snapshot


def encoded_records(
    builder: HistoryBuilder,
    snapshot: Snapshot,
    previous: set[EntityKey],
    max_bytes: int,
    report: BuildReport,
) -> Iterator[tuple[bytes, bytes | None]]:
    """(key, value) of every profile of ``snapshot``, then the tombstones of the entities
    ``previous`` builds published and this one no longer has."""
    for key, profile in sorted(snapshot.profiles.items()):
        raw_key, value, left_out = encode(
            key, profile, snapshot.as_of_ms, builder.entities.get(key), max_bytes,
            inputs_until_ms=report.inputs_until_ms,
        )  # fmt: skip
        report.state_left_out += left_out
        yield raw_key, value
    for key in sorted(previous - snapshot.profiles.keys()):
        report.tombstones += 1
        yield f"{key[0]}:{key[1]}".encode(), None


def publish(
    settings: Settings,
    records: Iterable[tuple[bytes, bytes | None]],
    report: BuildReport,
    progress: Progress = _quiet,
    total: int | None = None,
) -> None:
    sink = producer(settings)
    try:
        for number, (key, value) in enumerate(records, 1):
            sink.send(settings.topics.profiles, key=key, value=value)
            report.published += value is not None
            if number % 5_000 == 0:
                progress("publishing", number, total)
        sink.flush()
    finally:
        sink.close()


def max_record_bytes(settings: Settings) -> int:
    """What one profile record may weigh: the topic's limit, less room for the batch."""
    limit = topic_max_message_bytes(settings, settings.topics.profiles)
    return (limit or DEFAULT_MAX_RECORD_BYTES) - _HEADROOM


def build_from_topics(
    settings: Settings,
    *,
    as_of_ms: int | None = None,
    publish_to_topic: bool = True,
    progress: Progress = _quiet,
) -> tuple[BuildReport, HistoryBuilder, Snapshot]:
    """The whole scheduled build (the module's doc); ``as_of_ms`` defaults to now."""
    report = BuildReport()
    now_ms = int(time.time() * 1000)
    until_ms = as_of_ms if as_of_ms is not None else now_ms
    report.inputs_until_ms = now_ms - int(settings.profiles_settle_s * 1000)
    builder, previous = take_up_previous(settings, report, progress)
    if report.resumed_from_ms is not None and report.resumed_from_ms >= until_ms:
        raise ValueError("the published profiles are already as of this time or later")
    events = read_inputs(settings, until_ms, report, progress)
    snapshot = feed(builder, events, until_ms, report, progress, len(events))
    if publish_to_topic:
        records = encoded_records(builder, snapshot, previous, max_record_bytes(settings), report)
        publish(settings, records, report, progress, len(snapshot) + len(previous))
    log.info(
        "profiles built as of %d: %d entities from %d events, %d published, %d tombstones",
        until_ms, report.entities, report.events_fed, report.published, report.tombstones,
    )  # fmt: skip
    return report, builder, snapshot
