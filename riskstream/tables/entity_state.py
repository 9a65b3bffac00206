"""Per-entity rule state, one table record per entity (an account, a device, an IP ...).

Recent events are kept as compact entries shared by every rule keyed on the entity, so a
new rule version re-reads history instead of starting empty (the fields its predecessors
read: entries keep no others). Time windows are computed
from these entries, which makes them exact and lets the record survive restarts and
rebalances through the table's changelog like any other value.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Self


@dataclass(slots=True)
class Entry:
    """One event as the rules need it: projected fields plus per-rule match bits."""

    ts_ms: int
    event_id: str
    fields: dict[str, Any]
    # "rule_id@version" -> bitmask (bit 0: the rule takes the event; then its aggregates'
    # ``where`` filters; then its sequence steps). Recomputed lazily for a new version.
    flags: dict[str, int] = field(default_factory=dict)
    # The fields as rules see them, kept once made when every value is plain; never stored.
    view: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # The wire form, made once: it holds the same fields and flags dicts (flags change in
    # place only), and the whole record is written again on every event of the entity.
    wire: list[Any] | None = field(default=None, compare=False, repr=False)

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.ts_ms, self.event_id)

    def to_wire(self) -> list[Any]:
        wire = self.wire
        if wire is None:
            wire = self.wire = [self.ts_ms, self.event_id, self.fields, self.flags]
        return wire

    @classmethod
    def from_wire(cls, data: list[Any]) -> Self:
        return cls(int(data[0]), str(data[1]), dict(data[2]), dict(data[3]))


@dataclass(slots=True)
class Fired:
    """A signal already published for the entity: for suppression and re-delivery."""

    rule_id: str
    signal_id: str
    emitted_by: str
    start_ms: int
    end_ms: int
    window_key: str
    payload: dict[str, Any]

    def to_wire(self) -> list[Any]:
        return [
            self.rule_id,
            self.signal_id,
            self.emitted_by,
            self.start_ms,
            self.end_ms,
            self.window_key,
            self.payload,
        ]

    @classmethod
    def from_wire(cls, data: list[Any]) -> Self:
        return cls(
            str(data[0]), str(data[1]), str(data[2]), int(data[3]), int(data[4]), str(data[5]),
            dict(data[6]),
        )  # fmt: skip


@dataclass(slots=True)
class EntityState:
    """Everything the rule engine remembers about one entity."""

    watermark_ms: int = -1
    entries: list[Entry] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    fired: list[Fired] = field(default_factory=list)
    # "rule_id/aggregate" -> {day number: [count, sum]}: long-horizon baselines.
    baselines: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    first_seen_ms: int = -1
    last_seen_ms: int = -1
    events_seen: int = 0
    late_events: int = 0
    # Rule versions whose match bits every stored entry carries (absent bits mean 0).
    tags: list[str] = field(default_factory=list)
    # Accounts only: outgoing total per UTC day number, as a decimal string (tables.spend).
    spend: dict[int, str] = field(default_factory=dict)
    # Rule version -> its running window (see agents.cep.running); never stored.
    running: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # The oldest time in ``seen`` while ``seen`` has ``floor_of`` ids (else unknown):
    # finding it is a scan of every id, on every event of a busy entity otherwise.
    seen_floor: int = field(default=-1, compare=False, repr=False)
    floor_of: int = field(default=-1, compare=False, repr=False)

    def remember(self, event_id: str, ts_ms: int) -> None:
        """Record ``event_id`` (new to the entity) as seen at ``ts_ms``."""
        known = self.floor_of == len(self.seen)
        self.seen[event_id] = ts_ms
        if known and len(self.seen) == self.floor_of + 1:
            self.seen_floor = min(self.seen_floor, ts_ms) if self.floor_of else ts_ms
            self.floor_of += 1

    def _oldest_seen(self) -> int:
        if self.floor_of != len(self.seen):
            self.seen_floor = min(self.seen.values(), default=-1)
            self.floor_of = len(self.seen)
        return self.seen_floor

    def insert(self, entry: Entry) -> int:
        """Insert in event-time order; returns the entry's index."""
        index = bisect.bisect_left(self.entries, entry.sort_key, key=_sort_key)
        self.entries.insert(index, entry)
        return index

    def between(self, start_ms: int, end_ms: int) -> list[Entry]:
        """Entries with ``start_ms <= ts <= end_ms`` in event-time order."""
        low = bisect.bisect_left(self.entries, start_ms, key=_ts)
        high = bisect.bisect_right(self.entries, end_ms, key=_ts)
        return self.entries[low:high]

    def evict(self, horizon_ms: int, max_entries: int, baseline_days: int) -> None:
        cutoff = self.watermark_ms - horizon_ms
        if self.entries and self.entries[0].ts_ms < cutoff:
            self.entries = self.entries[bisect.bisect_left(self.entries, cutoff, key=_ts) :]
        if len(self.entries) > max_entries:
            self.entries = self.entries[-max_entries:]
        if self.seen and self._oldest_seen() < cutoff:
            self.seen = {key: ts for key, ts in self.seen.items() if ts >= cutoff}
            self.floor_of = -1
        if len(self.seen) > 2 * max_entries:
            # The newest, and every stored entry (so that it is never applied twice).
            newest = sorted(self.seen.items(), key=lambda item: (item[1], item[0]))
            kept = dict(newest[-2 * max_entries :])
            for entry in self.entries:
                kept[entry.event_id] = entry.ts_ms
            self.seen = kept
            self.floor_of = -1
        if self.fired:
            self.fired = [record for record in self.fired if record.end_ms >= cutoff]
        oldest_day = self.watermark_ms // 86_400_000 - baseline_days
        for days in self.baselines.values():
            for day in [day for day in days if day < oldest_day]:
                del days[day]

    def forget_rules_except(self, live_tags: frozenset[str] | set[str]) -> None:
        """Drop what belongs to rule versions no longer in force (deleted or replaced)."""
        if live_tags.issuperset(self.tags):
            return
        live_ids = {tag.rsplit("@", 1)[0] for tag in live_tags}
        for entry in self.entries:
            for tag in [tag for tag in entry.flags if tag not in live_tags]:
                del entry.flags[tag]
        self.entries = [entry for entry in self.entries if entry.flags]
        self.fired = [record for record in self.fired if record.rule_id in live_ids]
        for name in [name for name in self.baselines if name.split("/", 1)[0] not in live_ids]:
            del self.baselines[name]
        self.tags = [tag for tag in self.tags if tag in live_tags]
        for tag in [tag for tag in self.running if tag not in live_tags]:
            del self.running[tag]

    def to_wire(self) -> dict[str, Any]:
        # Written whole on every event: nothing here may cost more than the entries' count
        # of cheap steps (orjson does the rest).
        wire = {
            "w": self.watermark_ms,
            "e": [entry.to_wire() for entry in self.entries],
            "s": self.seen,
            "f": [record.to_wire() for record in self.fired],
            "b": {name: {str(day): value for day, value in days.items()}
                  for name, days in self.baselines.items()},
            "p": [self.first_seen_ms, self.last_seen_ms, self.events_seen, self.late_events],
            "t": self.tags,
        }  # fmt: skip
        if self.spend:
            wire["d"] = {str(day): total for day, total in self.spend.items()}
        return wire

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        first, last, count, late = data["p"]
        return cls(
            watermark_ms=int(data["w"]),
            entries=[Entry.from_wire(item) for item in data["e"]],
            seen={str(key): int(ts) for key, ts in data["s"].items()},
            fired=[Fired.from_wire(item) for item in data["f"]],
            baselines={
                name: {int(day): list(value) for day, value in days.items()}
                for name, days in data["b"].items()
            },
            first_seen_ms=int(first),
            last_seen_ms=int(last),
            events_seen=int(count),
            late_events=int(late),
            tags=[str(tag) for tag in data.get("t", [])],
            spend={int(day): str(total) for day, total in data.get("d", {}).items()},
        )


def _ts(entry: Entry) -> int:
    return entry.ts_ms


def _sort_key(entry: Entry) -> tuple[int, str]:
    return entry.sort_key
