"""Upstream misbehaves: malformed messages, other partitioners, repeats, disorder, lag.

The worker runs without a fault of its own, so no signal may be published twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from riskstream.streams.outputs import DeadLetterHeaders
from tests.faults.harness import FaultRun
from tests.faults.stream import SEED, lagging, shuffled_within
from tests.faults.traffic import POISON_REASONS, arrivals, poison_flood, sprinkled
from tests.integration.helpers import read_all

pytestmark = [pytest.mark.faults, pytest.mark.timeout(1200)]

POISON_ROUNDS = 330  # of the six kinds: 1,980 malformed messages
SHUFFLE = timedelta(minutes=3)  # well inside the rules' 10-minute lateness
# Past the account rules' longest window (24 hours) plus lateness: were the account's
# clock not held back by its lagging topic, its transactions would all come too late.
LAG = timedelta(hours=30)


def test_poison_flood(fault_run: FaultRun) -> None:
    """Malformed messages of every kind all through the stream: each one dead-lettered
    once, with its original bytes and its reason; the good events as if alone."""
    run = fault_run
    settings = run.sandbox.settings
    flood = poison_flood(settings, POISON_ROUNDS)
    run.start()
    run.send(sprinkled(arrivals(settings, run.stream.events), [item for _, item in flood]))
    run.finish(republish_allowed=False)

    letters = read_all(settings, settings.topics.dead_letter)
    reasons = {
        letter.value: letter.headers[DeadLetterHeaders.REASON].decode() for letter in letters
    }
    assert Counter(letter.value for letter in letters) == Counter(item.value for _, item in flood)
    wrong = [(kind, reasons[item.value]) for kind, item in flood
             if reasons[item.value] != POISON_REASONS[kind]]  # fmt: skip
    assert wrong == []
    run.assert_exact()


def test_mixed_producer_partitioners(fault_run: FaultRun) -> None:
    """Transactions placed by crc32 (librdkafka's default), the account events and the
    feedback by murmur2: the worker sends the misplaced ones to their account's partition."""
    run = fault_run
    settings = run.sandbox.settings
    stream = arrivals(settings, run.stream.events, crc32_kinds=frozenset({"transaction"}))
    misplaced = sum(arrival.partition is not None for arrival in stream)
    run.start()
    run.send(stream)
    row = run.finish(republish_allowed=False)
    run.say(f"{row.stats['rerouted_partition']:,} re-routed of {misplaced:,} placed by crc32")
    assert row.stats["rerouted"] == 0
    # Each copy's home partition waited for it: none came after its time was final.
    assert row.stats["behind_watermark"] == 0
    run.assert_exact()


def test_duplicate_delivery(fault_run: FaultRun) -> None:
    """The whole stream delivered twice (a producer's retries, a replayed backup)."""
    run = fault_run
    once = arrivals(run.sandbox.settings, run.stream.events)
    run.start()
    run.send(once + once)
    row = run.finish(republish_allowed=False)
    # Nothing applied twice. A repeat still inside its account's horizon is known by id
    # (a duplicate); an older one cannot be told from a late event, and is not applied.
    assert row.stats["applied"] == len(once)
    assert row.stats["duplicates"] + row.stats["late"] == len(once)
    run.assert_exact()


def test_shuffle_within_lateness(fault_run: FaultRun) -> None:
    """Every event held back by a random delay of up to 3 minutes."""
    run = fault_run
    shuffled = shuffled_within(run.stream.events, SHUFFLE, seed=SEED)
    run.start()
    run.send(arrivals(run.sandbox.settings, shuffled))
    row = run.finish(republish_allowed=False)
    # Within the watermark delay (the suite's 10 minutes): applied in event-time order.
    assert row.stats["behind_watermark"] == 0
    run.assert_exact()


def test_transactions_lag_by_30_hours(fault_run: FaultRun) -> None:
    """The account events and the feedback arrive first, the transactions 30 hours of
    event time behind them."""
    run = fault_run
    late = lagging(run.stream.events, "transaction", LAG)
    run.start()
    run.send(arrivals(run.sandbox.settings, late))
    row = run.finish(republish_allowed=False)
    # The early topics waited for the lagging one: nothing came after its time.
    assert row.stats["late"] == row.stats["behind_watermark"] == 0
    run.assert_exact()
