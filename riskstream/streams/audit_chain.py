"""The audit trail as hash chains, and their check.

Each producer of audit entries (a worker process, one CLI command) writes its own chain:
an id (``chain``: the producer's name and a random part, new at each start), a sequence
number from 0 (``seq``) and the sha256, in hex, of the previous entry of the chain as
stored in the topic (``prev``; ``GENESIS`` for the first). An entry is its JSON with
sorted keys, and those very bytes are what the next entry hashes, so a changed, removed,
reordered or inserted entry breaks its chain where it stands; one appended in a chain's
name shows as soon as the producer writes its next entry (two entries then claim one
place). A chain per producer, not one for the topic: producers need not coordinate, and
their entries may interleave in the topic as they like.

What a chain cannot show: a whole chain removed, or the last entries of one (a record
deleted at the end). The topic's ACLs (only workers and the penalty CLI write it) and its
infinite retention are the other half of the guarantee (docs/security.md).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from riskstream.streams.scoring_model import AuditRecord

GENESIS = "0" * 64
CHAIN_FIELDS = ("chain", "seq", "prev")


def canonical(record: AuditRecord) -> bytes:
    """The bytes an entry is stored as, and hashed as: JSON with sorted keys."""
    return orjson.dumps(record.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def digest(stored: bytes) -> str:
    return hashlib.sha256(stored).hexdigest()


class AuditChain:
    """One producer's chain. ``seal`` links the next entry; ``undo`` takes the last one
    back when it could not be stored (the caller writes one entry at a time)."""

    def __init__(self, producer: str) -> None:
        self.chain = f"{producer}:{secrets.token_hex(6)}"
        self.seq = 0
        self.prev = GENESIS
        self._before: tuple[int, str] | None = None

    def seal(self, record: AuditRecord) -> bytes:
        linked = record.model_copy(update={"chain": self.chain, "seq": self.seq, "prev": self.prev})
        stored = canonical(linked)
        self._before = (self.seq, self.prev)
        self.seq, self.prev = self.seq + 1, digest(stored)
        return stored

    def undo(self) -> None:
        if self._before is not None:
            self.seq, self.prev = self._before
            self._before = None


@dataclass(frozen=True, slots=True)
class BrokenLink:
    offset: int
    why: str

    def line(self) -> str:
        return f"audit entry at offset {self.offset}: {self.why}"


@dataclass(frozen=True, slots=True)
class AuditReport:
    entries: int
    chains: int
    unchained: int  # written before entries were chained
    broken: BrokenLink | None


@dataclass(slots=True)
class _ChainEnd:
    seq: int
    hash: str


def verify(records: Iterable[tuple[int, bytes | None]]) -> AuditReport:
    """Checks ``(offset, value)`` records of the audit topic, in offset order, and stops at
    the first broken link. Entries without chain fields pass only before the first
    chained one (a trail older than the chains)."""
    ends: dict[str, _ChainEnd] = {}
    entries = unchained = 0
    for offset, value in records:
        entries += 1
        why, fields = _read(value)
        if why is None and fields is None:
            if ends:
                why = "an entry without a chain, after chained ones (forged or replayed)"
            else:
                unchained += 1
                continue
        if why is None and fields is not None:
            why = _link(ends, *fields, stored=value or b"")
        if why is not None:
            return AuditReport(entries, len(ends), unchained, BrokenLink(offset, why))
    return AuditReport(entries, len(ends), unchained, None)


def _read(value: bytes | None) -> tuple[str | None, tuple[str, int, str] | None]:
    """Why the record is no audit entry, or its chain fields (None when it has none)."""
    if value is None:
        return "an entry was deleted (a tombstone)", None
    try:
        data: Any = orjson.loads(value)
        AuditRecord.model_validate(data)
    except ValueError:  # orjson's and pydantic's errors
        return "not an audit entry (unreadable)", None
    if all(data.get(name) is None for name in CHAIN_FIELDS):
        return None, None
    chain, seq, prev = (data.get(name) for name in CHAIN_FIELDS)
    if not (isinstance(chain, str) and isinstance(seq, int) and isinstance(prev, str)):
        return "its chain fields are incomplete", None
    return None, (chain, seq, prev)


def _link(ends: dict[str, _ChainEnd], chain: str, seq: int, prev: str, stored: bytes) -> str | None:
    """Why this entry does not continue its chain; None when it does (and is recorded)."""
    end = ends.get(chain)
    if end is None:
        if seq != 0 or prev != GENESIS:
            return f"chain {chain} starts at seq {seq}, not at 0 from the genesis hash"
        ends[chain] = _ChainEnd(0, digest(stored))
        return None
    if seq <= end.seq:
        return f"chain {chain} has seq {seq} again (an entry forged in its name)"
    if seq != end.seq + 1:
        return f"chain {chain} skips from seq {end.seq} to {seq} (entries missing)"
    if prev != end.hash:
        return f"chain {chain} seq {seq} does not hash the entry before it (changed or forged)"
    end.seq, end.hash = seq, digest(stored)
    return None
