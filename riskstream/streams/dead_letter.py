"""Dead letters that are never lost: fitted to the broker's limits, sent until stored.

A dead letter is the rejected message's key and bytes, with headers saying why and where
from; any card, phone or id number in them masked and CVV/PIN data removed, a header
naming what was (``stored_value``). When that record would be larger than the
dead-letter topic or the producer takes, its value (then its key) is cut short, and
headers keep the size and sha256 of what was cut, so that it can still be matched with
the source record. A send that fails is tried again, with a pause that grows up to a
cap, until the broker has the record: the caller holds the source message
unacknowledged meanwhile, so its offset is not committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from riskstream.streams.card_numbers import mask_text
from riskstream.streams.outputs import DeadLetterHeaders
from riskstream.streams.redaction import Kind, mask, mask_named_values
from riskstream.streams.settings import Settings
from riskstream.streams.topics import topic_max_message_bytes

log = logging.getLogger(__name__)

DETAIL_MAX_CHARS = 2000
# Kafka's default max.message.bytes, used while the topic's own cannot be read.
KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
TOPIC_LIMIT_RETRY_S = 60.0
# The client's own check and the broker's answers that mean "too large".
SIZE_ERRORS = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)

Headers = tuple[tuple[str, bytes], ...]


class Source(Protocol):
    """The rejected message (a Faust ``Message`` is one)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    key: bytes | None
    value: bytes
    headers: Headers
    origin: str = ""  # topic/partition/offset, for the log

    def size(self) -> int:
        """An upper bound of the record's size as the producer and the broker count it
        (a batch of this one record, uncompressed)."""
        size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(
            self.key, self.value, list(self.headers)
        )
        return size

    @property
    def truncated(self) -> bool:
        return any(name == DeadLetterHeaders.TRUNCATED for name, _ in self.headers)


class DeadLetterTooLargeError(ValueError):
    """Even with an empty key and value the record would pass the limit."""


def stored_value(original: bytes | None) -> tuple[bytes, frozenset[Kind]]:
    """The bytes a dead letter keeps of the rejected message, and the kinds of sensitive
    value masked in them (``streams/redaction.py``): the original bytes when there were
    none. JSON is masked field by field (escapes decoded, names read) and written anew;
    anything else has its card numbers, and the values of ``"name": value`` pairs with
    sensitive names, masked where the bytes read as text."""
    value = original or b""
    try:
        return mask(value)
    except ValueError:  # not JSON, or nested too deep (TooDeepError)
        text = value.decode("latin-1")  # one character per byte: every other byte kept
        masked_text, found = mask_named_values(text)
        return (masked_text.encode("latin-1"), found) if found else (value, frozenset())


def _masked_key(key: bytes | None) -> bytes | None:
    if key is None:
        return None
    text = key.decode("latin-1")
    return mask_text(text).encode("latin-1")


def letter_for(source: Source, reason: str, detail: str) -> DeadLetter:
    """The dead letter of ``source``: its key, its stored value, why and where from."""
    origin = f"{source.topic}/{source.partition}/{source.offset}"
    value, found = stored_value(source.value)
    headers: Headers = (
        (DeadLetterHeaders.REASON, reason.encode()),
        # A detail may quote the input (an exception's text): its card numbers masked.
        (DeadLetterHeaders.DETAIL, mask_text(detail[:DETAIL_MAX_CHARS]).encode()),
        (DeadLetterHeaders.TOPIC, source.topic.encode()),
        (DeadLetterHeaders.PARTITION, str(source.partition).encode()),
        (DeadLetterHeaders.OFFSET, str(source.offset).encode()),
        (DeadLetterHeaders.TIMESTAMP, str(source.timestamp).encode()),
    )
    if found:
        kinds = ",".join(sorted(kind.value for kind in found))
        headers = (*headers, (DeadLetterHeaders.MASKED, kinds.encode()))
    return DeadLetter(_masked_key(source.key), value, headers, origin)


def _described(size_header: str, hash_header: str, data: bytes) -> Headers:
    return (
        (size_header, str(len(data)).encode()),
        (hash_header, hashlib.sha256(data).hexdigest().encode()),
    )


def fit(letter: DeadLetter, limit: int) -> DeadLetter:
    """``letter`` as it is if it fits ``limit`` bytes, else with its value cut short (and
    its key too, if the key alone leaves no room), the cut parts described in headers."""
    if letter.size() <= limit:
        return letter
    key, value = letter.key, letter.value
    described = (
        *letter.headers,
        *_described(DeadLetterHeaders.ORIGINAL_SIZE, DeadLetterHeaders.ORIGINAL_SHA256, value),
    )
    headers = (*described, (DeadLetterHeaders.TRUNCATED, b"value"))
    if key is None or DeadLetter(key, b"", headers).size() <= limit:
        value = _longest_prefix(lambda part: DeadLetter(key, part, headers), value, limit)
    else:
        headers = (
            *described,
            *_described(
                DeadLetterHeaders.KEY_ORIGINAL_SIZE, DeadLetterHeaders.KEY_ORIGINAL_SHA256, key
            ),
            (DeadLetterHeaders.TRUNCATED, b"value,key"),
        )
        value = b""
        key = _longest_prefix(lambda part: DeadLetter(part, b"", headers), key, limit)
    fitted = DeadLetter(key, value, headers, letter.origin)
    if fitted.size() > limit:
        raise DeadLetterTooLargeError(
            f"the headers alone make {fitted.size()} bytes, the limit is {limit}"
        )
    return fitted


def _longest_prefix(make: Callable[[bytes], DeadLetter], data: bytes, limit: int) -> bytes:
    keep = len(data)
    # Each step removes the excess; a shorter length can only shrink its varint.
    while keep > 0 and (excess := make(data[:keep]).size() - limit) > 0:
        keep = max(keep - excess, 0)
    return data[:keep]


TopicLimit = Callable[[], Awaitable[int | None]]


class RecordLimit:
    """The largest dead-letter record: the lower of the topic's ``max.message.bytes``
    (read from the broker, Kafka's default until it answers) and the producer's
    ``max_request_size``; lowered further when the broker refuses a record as too large."""

    def __init__(self, producer_max: int, read_topic_max: TopicLimit) -> None:
        self.producer_max = producer_max
        self._read_topic_max = read_topic_max
        self._topic_max: int | None = None
        self._tried_at: float | None = None
        self._ceiling: int | None = None

    async def bytes(self) -> int:
        now = time.monotonic()
        if self._topic_max is None and (
            self._tried_at is None or now - self._tried_at >= TOPIC_LIMIT_RETRY_S
        ):
            self._tried_at = now
            self._topic_max = await self._read_topic_max()
        limits = [self.producer_max, self._topic_max or KAFKA_DEFAULT_MAX_MESSAGE_BYTES]
        if self._ceiling is not None:
            limits.append(self._ceiling)
        return min(limits)

    def refused(self, size: int) -> None:
        """A record of ``size`` bytes was refused as too large: the topic's limit may have
        changed (read it again) or be counted otherwise (stay well below ``size``)."""
        self._topic_max = None
        self._tried_at = None
        self._ceiling = size * 9 // 10


Send = Callable[[DeadLetter], Awaitable[Any]]
Sleep = Callable[[float], Awaitable[None]]


class DeadLetterSender:
    """Sends a dead letter until the broker accepts it."""

    def __init__(
        self,
        send: Send,
        limit: RecordLimit,
        *,
        first_pause_s: float = 0.2,
        max_pause_s: float = 10.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._send = send
        self.limit = limit
        self.first_pause_s = first_pause_s
        self.max_pause_s = max_pause_s
        self._sleep = sleep
        self.failed_attempts = 0  # over the sender's life, for tests and diagnostics

    async def deliver(self, letter: DeadLetter) -> DeadLetter:
        """Send ``letter``, fitted to the limit, until the broker has it; returns the record
        as stored. Never gives up: only cancellation (the worker stopping) ends it early,
        and then the source message stays unacknowledged, to be read again."""
        pause = self.first_pause_s
        attempt = 1
        while True:
            fitted: DeadLetter | None = None
            try:
                fitted = fit(letter, await self.limit.bytes())
                await self._send(fitted)
                if attempt > 1:
                    log.warning("dead letter of %s stored at attempt %d", letter.origin, attempt)
                return fitted
            except asyncio.CancelledError:
                raise
            except Exception as error:  # whatever it is, the letter must not be lost
                self.failed_attempts += 1
                if isinstance(error, SIZE_ERRORS) and fitted is not None:
                    self.limit.refused(fitted.size())
                log.warning(
                    "dead letter of %s not stored (attempt %d), again in %.1f s: %r",
                    letter.origin, attempt, pause, error,
                )  # fmt: skip
            await self._sleep(pause)
            pause = min(pause * 2, self.max_pause_s)
            attempt += 1


def sender_for(app: Any, settings: Settings) -> DeadLetterSender:
    """A sender to the dead-letter topic through the worker's Faust producer."""
    topic = settings.topics.dead_letter

    async def send(letter: DeadLetter) -> None:
        # Waits for the broker's answer; Faust's topic.send would only queue it.
        await app.producer.send_and_wait(
            topic, letter.key, letter.value, partition=None, timestamp=None,
            headers=list(letter.headers),
        )  # fmt: skip

    async def read_topic_max() -> int | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, topic_max_message_bytes, settings, topic)

    return DeadLetterSender(send, RecordLimit(app.conf.producer_max_request_size, read_topic_max))
