"""Upstream producers: the stream sent at a steady rate from a thread, while faults happen.

Each message is an :class:`Arrival`: which topic, key and bytes, and the partition when
the producer chooses it itself (librdkafka's crc32, for the mixed-partitioner case).
The sender can be paused, to hold traffic while the broker is down, and says how far it
got, so a fault can be timed to a share of the stream.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from riskstream.simulation.event import Kind, SimEvent
from riskstream.simulation.traffic import poison_messages
from riskstream.streams.codec import dumps, loads
from riskstream.streams.kafka_io import producer, topic_for
from riskstream.streams.settings import Settings

PROGRESS_EVERY = 5_000  # messages between two progress lines


@dataclass(frozen=True, slots=True)
class Arrival:
    topic: str
    key: bytes | None
    value: bytes
    partition: int | None = None  # None: the client's murmur2, as Kafka's Java producer


def crc32_partition(key: bytes, partitions: int) -> int:
    """librdkafka's default (``consistent_random``) partition of a keyed message."""
    return zlib.crc32(key) % partitions


def arrivals(
    settings: Settings, events: Iterable[SimEvent], *, crc32_kinds: frozenset[Kind] = frozenset()
) -> list[Arrival]:
    """The events as their producers send them: keyed by account; those of
    ``crc32_kinds`` placed as a librdkafka producer with its default partitioner would."""
    return [
        Arrival(
            topic_for(settings, event),
            event.key,
            event.encode(),
            crc32_partition(event.key, settings.partitions) if event.kind in crc32_kinds else None,
        )
        for event in events
    ]


# What the worker must answer for each kind of poison_messages() (dead-letter reason).
POISON_REASONS = {
    "not_json": "not_json",
    "missing_amount": "invalid",
    "negative_amount": "invalid",
    "naive_timestamp": "invalid",
    "wrong_type": "invalid",
    "oversized": "oversized",
}


def poison_flood(settings: Settings, rounds: int) -> list[tuple[str, Arrival]]:
    """``rounds`` copies of every kind of malformed message, each copy's bytes its own
    (so each dead letter can be matched with what was sent), spread over the input
    topics and the partitions: (kind, arrival)."""
    names = settings.topics
    topics = (names.transactions, names.account_events, names.feedback)
    flood: list[tuple[str, Arrival]] = []
    for number in range(rounds):
        for kind, raw in poison_messages():
            if kind == "not_json":
                value = raw + f" {number}".encode()
            else:
                body = loads(raw)
                body["event_id"] = f"poison-{number:04d}-{kind}"
                value = dumps(body)
            key = f"acct-poison-{number:04d}".encode()
            flood.append((kind, Arrival(topics[len(flood) % len(topics)], key, value)))
    return flood


def sprinkled(stream: Sequence[Arrival], extra: Sequence[Arrival]) -> list[Arrival]:
    """``extra`` spread evenly through ``stream``, from its start to its end."""
    mixed: list[Arrival] = []
    step = len(stream) / max(1, len(extra))
    pending = iter(extra)
    due = 0.0
    for index, arrival in enumerate(stream):
        while index >= due and (item := next(pending, None)) is not None:
            mixed.append(item)
            due += step
        mixed.append(arrival)
    mixed.extend(pending)
    return mixed


class Sender:
    """Sends the arrivals in order at ``rate`` per second, in a thread of its own."""

    def __init__(self, settings: Settings, stream: Sequence[Arrival], rate: float, name: str):
        self.settings = settings
        self.stream = stream
        self.rate = rate
        self.name = name
        self.sent = 0
        self.error: BaseException | None = None
        self._go = threading.Event()
        self._go.set()
        self._holding = threading.Event()  # set while paused with everything flushed
        self._thread = threading.Thread(target=self._run, name=f"sender-{name}", daemon=True)

    def start(self) -> Sender:
        self._thread.start()
        return self

    def _run(self) -> None:
        sink = producer(self.settings)
        try:
            due = time.monotonic()
            for arrival in self.stream:
                if not self._go.is_set():
                    sink.flush()
                    self._holding.set()
                    self._go.wait()
                    self._holding.clear()
                    due = time.monotonic()
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                due += 1 / self.rate
                sink.send(
                    arrival.topic, key=arrival.key, value=arrival.value, partition=arrival.partition
                )
                self.sent += 1
                if self.sent % PROGRESS_EVERY == 0:
                    print(
                        f"[faults] {self.name}: sent {self.sent:,}/{len(self.stream):,}", flush=True
                    )
            sink.flush()
        except BaseException as error:  # reported by join(), in the test's thread
            self.error = error
        finally:
            sink.close()
            self._holding.set()

    def wait_sent(self, share: float, timeout_s: float = 600.0) -> None:
        """Until ``share`` of the stream has been sent."""
        target = int(len(self.stream) * share)
        deadline = time.monotonic() + timeout_s
        while self.sent < target and self._thread.is_alive():
            assert time.monotonic() < deadline, f"{self.name}: {self.sent} sent of {target}"
            time.sleep(0.05)

    def pause(self, timeout_s: float = 60.0) -> None:
        """Hold the traffic, once what was sent so far is acknowledged."""
        self._go.clear()
        assert self._holding.wait(timeout_s), f"{self.name}: sender did not pause"

    def resume(self) -> None:
        self._go.set()

    def join(self, timeout_s: float = 900.0) -> None:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), f"{self.name}: sender still running"
        if self.error is not None:
            raise self.error
