"""kafka-python producer and consumer helpers for tooling (not the worker's hot path)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaConsumer, KafkaProducer
from rich.progress import Progress

from riskstream.streams.kafka_security import client_options
from riskstream.streams.settings import Settings


class InputEvent(Protocol):
    """An event for an input topic, e.g. the simulator's
    :class:`~riskstream.simulation.event.SimEvent`."""

    @property
    def kind(self) -> str:
        """``transaction``, ``account_event`` or ``feedback``: which input topic."""

    @property
    def key(self) -> bytes: ...

    def encode(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]
    timestamp_ms: int


def producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        **client_options(settings),
        acks="all",
        linger_ms=5,
        max_request_size=4 * 1024 * 1024,
        client_id=f"{settings.app_id}-tools",
    )


def topic_for(settings: Settings, event: InputEvent) -> str:
    names = settings.topics
    return {
        "transaction": names.transactions,
        "account_event": names.account_events,
        "feedback": names.feedback,
    }[event.kind]


def produce_events(
    settings: Settings,
    events: Iterable[InputEvent],
    *,
    rate: float | None = None,
    total: int | None = None,
) -> int:
    """Send events keyed by account, at ``rate`` per second (or as fast as possible)."""
    sink = producer(settings)
    sent = 0
    started = time.monotonic()
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("producing events", total=total)
            for event in events:
                if rate:
                    delay = started + sent / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                sink.send(topic_for(settings, event), key=event.key, value=event.encode())
                sent += 1
                progress.advance(task)
        sink.flush()
    finally:
        sink.close()
    return sent


def consume(
    settings: Settings,
    topic: str,
    *,
    from_beginning: bool = True,
    idle_timeout_s: float | None = None,
    stop_after: float | None = None,
) -> Iterator[Record]:
    """Records of ``topic`` (no consumer group); stops after ``idle_timeout_s`` of silence."""
    source = KafkaConsumer(
        topic,
        **client_options(settings),
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=int((idle_timeout_s or 0.5) * 1000),
    )
    deadline = None if stop_after is None else time.monotonic() + stop_after
    try:
        while deadline is None or time.monotonic() < deadline:
            got_any = False
            for message in source:
                got_any = True
                yield Record(
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    key=message.key,
                    value=message.value,
                    headers={name: value for name, value in message.headers or []},
                    timestamp_ms=message.timestamp,
                )
                if deadline is not None and time.monotonic() > deadline:
                    return
            if idle_timeout_s is not None and not got_any:
                return
    finally:
        source.close()
