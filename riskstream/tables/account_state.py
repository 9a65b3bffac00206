"""Per-account window state, kept in one table record per account.

Time buckets live inside the record instead of in Faust windowed tables: a plain table
survives restart and rebalance through its changelog, and the window logic stays in
plain Python that tests (and offline replay) can drive without Kafka.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self


@dataclass(frozen=True, slots=True, order=True)
class TxnEntry:
    """One transaction as the window needs it (ordered by event time, then id)."""

    ts_ms: int
    event_id: str
    amount: Decimal = field(compare=False)
    type: str = field(compare=False)
    status: str = field(compare=False)

    def to_wire(self) -> list[Any]:
        return [self.ts_ms, self.event_id, str(self.amount), self.type, self.status]

    @classmethod
    def from_wire(cls, data: list[Any]) -> Self:
        return cls(int(data[0]), str(data[1]), Decimal(data[2]), str(data[3]), str(data[4]))


@dataclass(frozen=True, slots=True, order=True)
class MarkerEntry:
    """An account event that later events correlate with (a password change, say)."""

    ts_ms: int
    event_id: str
    type: str = field(compare=False)

    def to_wire(self) -> list[Any]:
        return [self.ts_ms, self.event_id, self.type]

    @classmethod
    def from_wire(cls, data: list[Any]) -> Self:
        return cls(int(data[0]), str(data[1]), str(data[2]))


@dataclass(slots=True)
class FiredSignal:
    """A signal already published for this account: for suppression and re-delivery."""

    signal_id: str
    pattern: str
    emitted_by: str  # the event whose processing published it
    start_ms: int
    end_ms: int
    payload: dict[str, Any]

    def to_wire(self) -> list[Any]:
        return [
            self.signal_id,
            self.pattern,
            self.emitted_by,
            self.start_ms,
            self.end_ms,
            self.payload,
        ]

    @classmethod
    def from_wire(cls, data: list[Any]) -> Self:
        return cls(str(data[0]), str(data[1]), str(data[2]), int(data[3]), int(data[4]), data[5])


@dataclass(slots=True)
class AccountState:
    """Everything the detectors remember about one account, bounded by a time horizon."""

    watermark_ms: int = -1
    txns: list[TxnEntry] = field(default_factory=list)
    markers: list[MarkerEntry] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    fired: list[FiredSignal] = field(default_factory=list)
    late_events: int = 0

    def insert_txn(self, entry: TxnEntry) -> None:
        bisect.insort(self.txns, entry)

    def insert_marker(self, entry: MarkerEntry) -> None:
        bisect.insort(self.markers, entry)

    def txns_between(self, start_ms: int, end_ms: int) -> list[TxnEntry]:
        """Transactions with ``start_ms <= ts <= end_ms``, in event-time order."""
        low = bisect.bisect_left(self.txns, start_ms, key=_ts)
        high = bisect.bisect_right(self.txns, end_ms, key=_ts)
        return self.txns[low:high]

    def fired_for(self, pattern: str) -> list[FiredSignal]:
        return [record for record in self.fired if record.pattern == pattern]

    def evict(self, horizon_ms: int, max_entries: int) -> None:
        """Forget what lies further than ``horizon_ms`` behind the watermark."""
        cutoff = self.watermark_ms - horizon_ms
        if self.txns and self.txns[0].ts_ms < cutoff:
            self.txns = self.txns[bisect.bisect_left(self.txns, cutoff, key=_ts) :]
        if len(self.txns) > max_entries:
            self.txns = self.txns[-max_entries:]
        if self.markers and self.markers[0].ts_ms < cutoff:
            self.markers = self.markers[bisect.bisect_left(self.markers, cutoff, key=_ts) :]
        if self.seen and min(self.seen.values()) < cutoff:
            self.seen = {key: ts for key, ts in self.seen.items() if ts >= cutoff}
        self.fired = [record for record in self.fired if record.end_ms >= cutoff]

    def to_wire(self) -> dict[str, Any]:
        return {
            "w": self.watermark_ms,
            "t": [entry.to_wire() for entry in self.txns],
            "m": [entry.to_wire() for entry in self.markers],
            "s": self.seen,
            "f": [record.to_wire() for record in self.fired],
            "l": self.late_events,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        return cls(
            watermark_ms=int(data["w"]),
            txns=[TxnEntry.from_wire(item) for item in data["t"]],
            markers=[MarkerEntry.from_wire(item) for item in data["m"]],
            seen={str(key): int(ts) for key, ts in data["s"].items()},
            fired=[FiredSignal.from_wire(item) for item in data["f"]],
            late_events=int(data.get("l", 0)),
        )


def _ts(entry: TxnEntry | MarkerEntry) -> int:
    return entry.ts_ms
