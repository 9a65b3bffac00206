"""The decisions given, by event id: the same event id always gets the same answer.

Every scoring process reads the decisions topic back (``Scorer`` follows it), so an
answer given by one process, before a restart or by another instance, is the answer
every process gives. Two instances asked the same new event id at the same moment
would each judge it; so a decision is placed on the partition of its event id
(:func:`decision_partition`, whatever its key), where every record of one event id
lands in one order that every reader sees alike, and the first record there wins.

A process that may race others (a scorer instance) waits, before answering, until it
has read back the first record of its event id (:meth:`DecisionMemory.confirm`); the
answer is that record, its own or another's. A worker alone in answering for an
account takes its own decision at once (``confirm`` unused): it is the only writer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from pydantic import ValidationError

from riskstream.agents.partitioning import murmur2_partition
from riskstream.agents.score_request import IdempotencyConflictError
from riskstream.agents.validation import describe_validation_error
from riskstream.streams.codec import loads
from riskstream.streams.outputs import Decision

log = logging.getLogger(__name__)
# Own records awaiting their read-back, at most (the oldest forgotten first; a forgotten
# one is then read back as any other record is).
SENT_KEPT = 10_000


def decision_partition(event_id: str, partitions: int) -> int:
    """The decisions topic's partition of ``event_id``'s decisions (murmur2, as Kafka's
    own producers place a key)."""
    return murmur2_partition(event_id.encode(), partitions)


class DecisionMemory:
    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.remembered: OrderedDict[str, Decision] = OrderedDict()
        # Event id -> the first record of it read back, for the requests waiting on it.
        self._waiting: dict[str, asyncio.Future[Decision]] = {}
        # This process's own records, by their bytes, until read back: the decision they
        # hold is known, so reading one back needs no parsing (half of a confirm's cost).
        self._sent: OrderedDict[bytes, Decision] = OrderedDict()

    def __len__(self) -> int:
        return len(self.remembered)

    def get(self, event_id: str) -> Decision | None:
        return self.remembered.get(event_id)

    def remember(self, decision: Decision) -> Decision:
        """Keep ``decision`` unless its event id has one already; the one kept."""
        kept = self.remembered.get(decision.event_id)
        if kept is not None:
            return kept
        self.remembered[decision.event_id] = decision
        if len(self.remembered) > self.keep:
            self.remembered.popitem(last=False)
        waiting = self._waiting.pop(decision.event_id, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(decision)
        return decision

    def sending(self, value: bytes, decision: Decision) -> None:
        """``value``, the record about to be sent, holds ``decision``."""
        self._sent[value] = decision
        if len(self._sent) > SENT_KEPT:  # never read back (a follower cut off, a timeout)
            self._sent.popitem(last=False)

    def apply_record(self, record: Any) -> None:
        """A record of the decisions topic (this process's or another's): kept if it is
        the first of its event id; an unreadable one is logged and skipped."""
        ours = self._sent.pop(record.value, None) if self._sent else None
        if ours is not None:
            self.remember(ours)  # a no-op if another record of its event id came first
            return
        try:
            data = loads(record.value)
            if isinstance(data, dict) and data.get("event_id") in self.remembered:
                return  # a later record of an event id answered already (or ours, read back)
            decision = Decision.model_validate(data)
        except ValidationError as error:  # its own text would quote the record's values
            why = describe_validation_error(error)
            log.warning("decisions topic: unreadable record at %s: %s", record.offset, why)
            return
        except (ValueError, TypeError) as error:  # orjson's errors say where, not what
            log.warning("decisions topic: unreadable record at %s: %s", record.offset, error)
            return
        self.remember(decision)

    def pending(self, event_id: str) -> asyncio.Future[Decision] | None:
        """The wait of a request of this process already judging ``event_id``, if any."""
        return self._waiting.get(event_id)

    def expect(self, event_id: str) -> asyncio.Future[Decision]:
        """Register a wait for the first record of ``event_id`` (before publishing one)."""
        waiting = self._waiting.get(event_id)
        if waiting is None:
            waiting = self._waiting[event_id] = asyncio.get_running_loop().create_future()
        return waiting

    async def confirm(self, waiting: asyncio.Future[Decision], timeout_s: float) -> Decision | None:
        """The first record of the awaited event id, once read back; None if it was not
        within ``timeout_s`` (the decisions follower is behind or cut off)."""
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), timeout_s)
        except TimeoutError:
            return None

    def give_up(self, event_id: str, waiting: asyncio.Future[Decision]) -> None:
        """Forget a wait that timed out (a later record still lands in the memory);
        another request on the same wait times out on its own."""
        if self._waiting.get(event_id) is waiting:
            del self._waiting[event_id]


def same_request(decision: Decision, event_id: str, digest: str) -> Decision:
    """``decision``, given before for ``event_id``, if it was asked with the same body."""
    if decision.request_sha256 not in (None, digest):
        raise IdempotencyConflictError(f"event id {event_id!r} was scored before with another body")
    return decision
