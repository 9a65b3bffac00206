"""Dead letters fit the broker's limits and are sent until the broker has them."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from riskstream.streams.dead_letter import (
    KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    DeadLetter,
    DeadLetterSender,
    DeadLetterTooLargeError,
    RecordLimit,
    fit,
    letter_for,
)
from riskstream.streams.outputs import DeadLetterHeaders as H


@dataclass
class Source:
    topic: str = "payments.transactions"
    partition: int = 3
    offset: int = 41
    timestamp: float = 1795000000.5
    key: bytes | None = b"acct-1"
    value: bytes | None = b'{"type": "payment"}'


def batch_bytes(letter: DeadLetter) -> int:
    """The size of the record batch the producer would send for this one record."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=0, is_transactional=False,
        producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=2**31 - 1,
    )  # fmt: skip
    builder.append(
        0, timestamp=None, key=letter.key, value=letter.value, headers=list(letter.headers)
    )
    return len(builder.build())


def test_a_letter_keeps_the_original_bytes_and_says_why_and_where_from() -> None:
    letter = letter_for(Source(), "invalid", "amount: Input should be greater than 0")
    assert (letter.key, letter.value) == (b"acct-1", b'{"type": "payment"}')
    headers = dict(letter.headers)
    assert headers[H.REASON] == b"invalid"
    assert headers[H.TOPIC] == b"payments.transactions"
    assert (headers[H.PARTITION], headers[H.OFFSET]) == (b"3", b"41")
    assert letter.origin == "payments.transactions/3/41"
    assert fit(letter, KAFKA_DEFAULT_MAX_MESSAGE_BYTES) is letter
    assert not letter.truncated


def test_a_value_that_would_not_fit_is_cut_with_its_size_and_hash() -> None:
    original = bytes(range(256)) * 4096  # 1 MiB
    letter = letter_for(Source(value=original), "oversized", "too big")
    limit = KAFKA_DEFAULT_MAX_MESSAGE_BYTES
    assert letter.size() > limit
    fitted = fit(letter, limit)
    assert fitted.truncated
    assert limit - 8 <= fitted.size() <= limit  # as much as fits, not much less
    assert batch_bytes(fitted) <= limit  # what the broker counts
    assert original.startswith(fitted.value)
    assert fitted.key == b"acct-1"
    headers = dict(fitted.headers)
    assert headers[H.TRUNCATED] == b"value"
    assert headers[H.ORIGINAL_SIZE] == str(len(original)).encode()
    assert headers[H.ORIGINAL_SHA256] == hashlib.sha256(original).hexdigest().encode()
    assert H.KEY_ORIGINAL_SIZE not in headers
    assert headers[H.REASON] == b"oversized"


def test_a_message_that_just_fits_its_topic_is_cut_for_the_headers() -> None:
    limit = 1_048_588
    key = b"acct-1"
    value = b"x" * (limit - DeadLetter(key, b"", ()).size() - 4)
    assert DeadLetter(key, value, ()).size() <= limit  # fitted the input topic
    fitted = fit(letter_for(Source(key=key, value=value), "oversized", "d"), limit)
    assert fitted.truncated and fitted.size() <= limit
    assert len(fitted.value) < len(value)


def test_a_key_too_large_for_the_limit_is_cut_too() -> None:
    key = b"k" * 5000
    fitted = fit(letter_for(Source(key=key, value=b"v" * 5000), "oversized", "d"), 3000)
    headers = dict(fitted.headers)
    assert headers[H.TRUNCATED] == b"value,key"
    assert fitted.value == b""
    assert fitted.key is not None and key.startswith(fitted.key) and 0 < len(fitted.key) < 3000
    assert headers[H.KEY_ORIGINAL_SIZE] == b"5000"
    assert headers[H.KEY_ORIGINAL_SHA256] == hashlib.sha256(key).hexdigest().encode()
    assert fitted.size() <= 3000


def test_headers_alone_over_the_limit_are_refused() -> None:
    with pytest.raises(DeadLetterTooLargeError):
        fit(letter_for(Source(value=b"v" * 500), "invalid", "d" * 2000), 1000)


async def no_topic_limit() -> int | None:
    return None


class Pauses:
    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


async def test_a_failed_send_is_tried_again_with_a_growing_capped_pause() -> None:
    sent: list[DeadLetter] = []

    async def send(letter: DeadLetter) -> None:
        sent.append(letter)
        if len(sent) <= 7:
            raise KafkaConnectionError("broker away")

    pauses = Pauses()
    sender = DeadLetterSender(
        send, RecordLimit(10_000_000, no_topic_limit), first_pause_s=0.5, max_pause_s=4.0,
        sleep=pauses,
    )  # fmt: skip
    letter = letter_for(Source(), "invalid", "d")
    assert await sender.deliver(letter) == letter
    assert len(sent) == 8
    assert pauses.taken == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert sender.failed_attempts == 7


async def test_a_size_refusal_lowers_the_limit_and_reads_the_topic_again() -> None:
    topic_reads: list[int] = []

    async def topic_limit() -> int:
        topic_reads.append(1)
        return 1_000_000

    sizes: list[int] = []

    async def send(letter: DeadLetter) -> None:
        sizes.append(letter.size())
        if letter.size() > 600_000:  # the broker counts otherwise than we do
            raise MessageSizeTooLargeError()

    sender = DeadLetterSender(send, RecordLimit(8_000_000, topic_limit), sleep=Pauses())
    stored = await sender.deliver(letter_for(Source(value=b"v" * 2_000_000), "oversized", "d"))
    assert stored.truncated and stored.size() <= 600_000
    assert sizes[0] > 999_000 and sizes == sorted(sizes, reverse=True)
    assert len(topic_reads) == len(sizes)


async def test_the_limit_is_the_lower_of_topic_and_producer() -> None:
    async def topic_limit() -> int:
        return 2_000_000

    assert await RecordLimit(1_048_576, topic_limit).bytes() == 1_048_576
    assert await RecordLimit(8_000_000, topic_limit).bytes() == 2_000_000
    assert await RecordLimit(8_000_000, no_topic_limit).bytes() == KAFKA_DEFAULT_MAX_MESSAGE_BYTES


async def test_stopping_the_worker_ends_the_retries() -> None:
    async def send(letter: DeadLetter) -> None:
        raise KafkaConnectionError("broker away")

    sender = DeadLetterSender(send, RecordLimit(10_000, no_topic_limit), first_pause_s=0.01)
    task = asyncio.ensure_future(sender.deliver(letter_for(Source(), "invalid", "d")))
    await asyncio.sleep(0.1)
    assert not task.done() and sender.failed_attempts >= 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
