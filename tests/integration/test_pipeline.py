"""Events in, signals and dead letters out, on the real broker."""

from __future__ import annotations

import hashlib

import pytest
from kafka import KafkaProducer

from riskstream.simulation.traffic import poison_messages
from riskstream.streams.codec import dumps, loads
from riskstream.streams.dead_letter import DeadLetter
from riskstream.streams.outputs import DeadLetterHeaders
from riskstream.streams.topics import topic_max_message_bytes
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import (
    assert_same_signals,
    create_topic,
    expected_signals,
    read_all,
    send,
    send_raw,
    traffic,
    wait_for_signals,
)

pytestmark = pytest.mark.integration


def test_events_in_signals_out_from_both_detectors(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    events = traffic(seed=11)
    expected = expected_signals(events)
    patterns = {body["pattern"] for body in expected.values()}
    assert {"velocity.account", "account_takeover"} <= patterns
    worker.start()
    send(settings, events)
    records = wait_for_signals(settings, set(expected))
    assert assert_same_signals(records, expected) == 0
    stats = worker.wait_for("applied", len(events))
    assert stats["dead_lettered"] == 0
    assert stats["late"] == 0


def test_the_stream_delivered_twice_publishes_each_signal_once(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    events = traffic(seed=13, accounts=60)
    expected = expected_signals(events)
    assert expected
    worker.start()
    send(settings, events)
    worker.wait_for("applied", len(events))
    wait_for_signals(settings, set(expected))
    send(settings, events)  # every event again, as a producer retrying all of it would
    stats = worker.wait_for("duplicates", len(events))
    assert stats["applied"] == len(events), stats
    worker.wait_for("entity_events", stats["rekeyed"])  # the entity stages saw them too
    records = read_all(settings, settings.topics.signals)
    assert assert_same_signals(records, expected) == 0  # not one published again


def test_poison_goes_to_dead_letter_and_good_events_still_flow(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    events = traffic(seed=12, accounts=60)
    expected = expected_signals(events)
    poison = poison_messages()
    worker.start()
    # Poison first, in the middle and at the end, on the partition of real accounts.
    half = len(events) // 2
    send_raw(settings, settings.topics.transactions, [(b"acct-00001", raw) for _, raw in poison])
    send(settings, events[:half])
    send_raw(settings, settings.topics.account_events, [(b"acct-00002", b"\xff\xfe garbage")])
    send(settings, events[half:])
    send_raw(settings, settings.topics.transactions, [(None, b"null")])

    assert_same_signals(wait_for_signals(settings, set(expected)), expected)
    worker.wait_for("dead_lettered", len(poison) + 2)
    letters = read_all(settings, settings.topics.dead_letter)
    assert len(letters) == len(poison) + 2
    sent_values = {raw for _, raw in poison} | {b"\xff\xfe garbage", b"null"}
    assert {letter.value for letter in letters} == sent_values  # original bytes, untouched
    reasons = {
        letter.value: letter.headers[DeadLetterHeaders.REASON].decode() for letter in letters
    }
    by_label = dict(poison)
    assert reasons[by_label["not_json"]] == "not_json"
    assert reasons[by_label["oversized"]] == "oversized"
    assert reasons[b"null"] == "not_object"
    for label in ("missing_amount", "negative_amount", "naive_timestamp", "wrong_type"):
        assert reasons[by_label[label]] == "invalid"
    detail = {letter.value: letter.headers[DeadLetterHeaders.DETAIL].decode() for letter in letters}
    assert "amount" in detail[by_label["missing_amount"]]
    assert "timezone" in detail[by_label["naive_timestamp"]]
    for letter in letters:
        source = letter.headers[DeadLetterHeaders.TOPIC].decode()
        assert source in {settings.topics.transactions, settings.topics.account_events}
        assert int(letter.headers[DeadLetterHeaders.OFFSET]) >= 0
        assert int(letter.headers[DeadLetterHeaders.PARTITION]) >= 0
    assert worker.stats()["applied"] == len(events)


def test_repeated_event_ids_are_never_counted_twice(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    events = traffic(seed=13, accounts=40)
    expected = expected_signals(events)
    worker.start()
    send(settings, events)
    send(settings, events)  # an upstream retry storm: every event again
    worker.wait_for("duplicates", len(events))
    records = wait_for_signals(settings, set(expected))
    assert_same_signals(records, expected)
    stats = worker.stats()
    assert stats["applied"] == len(events)
    assert stats["duplicates"] == len(events)


def test_wrongly_keyed_event_is_rerouted_to_its_account(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    burst = [
        {
            "event_id": f"rk-{n}",
            "type": "payment",
            "occurred_at": f"2026-11-23T10:00:{n:02d}Z",
            "account_id": "acct-rekey",
            "amount": "3.00",
            "currency": "CNY",
        }
        for n in range(12)
    ]
    worker.start()
    # Half keyed right, half with no key or a wrong key: one account's burst all the same.
    records = [
        (b"acct-rekey" if n % 2 else (None if n % 4 else b"someone-else"), dumps(body))
        for n, body in enumerate(burst)
    ]
    send_raw(settings, settings.topics.transactions, records)
    worker.wait_for("applied", len(burst))
    signals = [
        body
        for body in (loads(record.value) for record in read_all(settings, settings.topics.signals))
        if body["rule_id"] == "velocity.account"
    ]
    assert [body["entity_id"] for body in signals] == ["acct-rekey"]
    assert signals[0]["aggregates"]["n"] == 11
    assert worker.stats()["rerouted"] == 6


def test_messages_too_large_for_a_dead_letter_are_cut_short_not_lost(
    sandbox: Sandbox, worker: Worker
) -> None:
    """One message just under the dead-letter topic's limit (which the headers push over
    it) and one above the producer's request size: each is stored cut short, with its size
    and hash, and the traffic after them flows."""
    settings = sandbox.settings
    producer_max = settings.state_record_max_bytes  # the worker's producer takes no more
    # The input topic takes more than the producer (as a topic of another team might).
    create_topic(settings, settings.topics.transactions, max_message_bytes=producer_max + 2**20)
    worker.start()
    dead_letter_max = topic_max_message_bytes(settings, settings.topics.dead_letter)
    assert dead_letter_max is not None and dead_letter_max < producer_max
    key = b"acct-big"
    room = DeadLetter(key, b"", ()).size() + 4  # the record's own bytes, the length's varint
    just_under = b"j" * (dead_letter_max - room)
    beyond_producer = b"p" * (producer_max + 2**19)
    assert DeadLetter(key, just_under, ()).size() <= dead_letter_max
    big = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, max_request_size=2**25)
    for value in (just_under, beyond_producer):
        big.send(settings.topics.transactions, key=key, value=value, partition=0).get(timeout=30)
    big.close()
    events = traffic(seed=14, accounts=30)
    send(settings, events)

    stats = worker.wait_for("applied", len(events), timeout_s=90)
    assert worker.process is not None and worker.process.poll() is None, worker.log_tail()
    assert stats["dead_lettered"] == 2, stats
    letters = read_all(settings, settings.topics.dead_letter)
    assert len(letters) == 2
    for letter, original in zip(letters, (just_under, beyond_producer), strict=True):
        headers = letter.headers
        assert headers[DeadLetterHeaders.REASON] == b"oversized"
        assert headers[DeadLetterHeaders.TRUNCATED] == b"value"
        assert headers[DeadLetterHeaders.ORIGINAL_SIZE] == str(len(original)).encode()
        digest = hashlib.sha256(original).hexdigest().encode()
        assert headers[DeadLetterHeaders.ORIGINAL_SHA256] == digest
        assert letter.key == key
        assert original.startswith(letter.value)
        stored = DeadLetter(letter.key, letter.value, tuple(headers.items()))
        assert dead_letter_max - 4096 < stored.size() <= dead_letter_max  # as much as fits
    assert "Traceback" not in worker.log_path.read_text(errors="replace")
