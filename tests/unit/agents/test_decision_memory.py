"""The first decision of an event id on the decisions topic is every instance's."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from riskstream.agents.decision_memory import SENT_KEPT, DecisionMemory, decision_partition
from riskstream.streams.codec import dumps
from riskstream.streams.outputs import Decision


@dataclass
class Record:
    value: bytes | None
    offset: int = 0


def decision(event_id: str, kind: str = "accept", digest: str = "d1") -> Decision:
    return Decision.model_validate(
        {"event_id": event_id, "score": 0, "decision": kind, "request_sha256": digest}
    )


def test_every_decision_of_an_event_id_goes_to_one_partition() -> None:
    partitions = {decision_partition("tx-1", 8) for _ in range(3)}
    assert len(partitions) == 1
    assert {decision_partition(f"tx-{n}", 8) for n in range(200)} == set(range(8))


def test_the_first_record_of_an_event_id_wins_and_later_ones_are_ignored() -> None:
    memory = DecisionMemory(keep=10)
    memory.apply_record(Record(dumps(decision("tx-1", "review"))))
    memory.apply_record(Record(dumps(decision("tx-1", "accept"))))
    kept = memory.get("tx-1")
    assert kept is not None and kept.decision == "review"


def test_unreadable_records_are_skipped() -> None:
    memory = DecisionMemory(keep=10)
    for value in (b"not json", dumps({"event_id": "tx-1", "score": 500}), dumps([1]), None):
        memory.apply_record(Record(value))
    assert len(memory) == 0


def test_the_memory_keeps_the_newest_within_its_bound() -> None:
    memory = DecisionMemory(keep=2)
    for n in range(3):
        memory.remember(decision(f"tx-{n}"))
    assert (memory.get("tx-0"), len(memory)) == (None, 2)


async def test_a_wait_ends_with_the_first_record_read_back_whoever_wrote_it() -> None:
    memory = DecisionMemory(keep=10)
    waiting = memory.expect("tx-1")
    assert memory.pending("tx-1") is waiting
    # Another instance's record lands first; ours, second, changes nothing.
    memory.apply_record(Record(dumps(decision("tx-1", "review", "theirs"))))
    memory.apply_record(Record(dumps(decision("tx-1", "accept", "ours"))))
    confirmed = await memory.confirm(waiting, 1.0)
    assert confirmed is not None and confirmed.request_sha256 == "theirs"
    assert memory.pending("tx-1") is None


async def test_a_wait_that_reads_nothing_back_times_out() -> None:
    memory = DecisionMemory(keep=10)
    waiting = memory.expect("tx-1")
    assert await memory.confirm(waiting, 0.01) is None
    memory.give_up("tx-1", waiting)
    assert memory.pending("tx-1") is None
    # The record arriving later still answers the next request.
    memory.apply_record(Record(dumps(decision("tx-1"))))
    assert memory.get("tx-1") is not None
    await asyncio.sleep(0)


async def test_an_own_record_read_back_is_the_decision_sent_and_loses_to_an_earlier_one() -> None:
    memory = DecisionMemory(keep=10)
    ours = decision("tx-1", "accept", "ours")
    waiting = memory.expect("tx-1")
    memory.sending(dumps(ours), ours)
    memory.apply_record(Record(dumps(ours)))
    assert await memory.confirm(waiting, 1.0) is ours, "taken as sent, not parsed again"
    # Another instance answered tx-2 first: our record of it, read back later, loses.
    ours_2 = decision("tx-2", "accept", "ours")
    waiting_2 = memory.expect("tx-2")
    memory.sending(dumps(ours_2), ours_2)
    memory.apply_record(Record(dumps(decision("tx-2", "review", "theirs"))))
    memory.apply_record(Record(dumps(ours_2)))
    confirmed = await memory.confirm(waiting_2, 1.0)
    assert confirmed is not None and confirmed.request_sha256 == "theirs"
    assert memory.get("tx-2") == confirmed


def test_own_records_never_read_back_are_forgotten_within_a_bound() -> None:
    memory = DecisionMemory(keep=10)
    for n in range(SENT_KEPT + 5):
        sent = decision(f"tx-{n}")
        memory.sending(dumps(sent), sent)
    assert len(memory._sent) == SENT_KEPT
    # The oldest, forgotten, is still read back as any record is.
    memory.apply_record(Record(dumps(decision("tx-0"))))
    assert memory.get("tx-0") == decision("tx-0")
