"""Windows over an entity's entries, and the aggregates computed on them."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from riskstream.agents.cep.compiler import CompiledAggregate, CompiledRule
from riskstream.agents.cep.running import (
    RunningWindow,
    Unsupported,
    field_of,
    number,
    running_window,
)
from riskstream.tables.entity_state import EntityState, Entry

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Window:
    """A set of the rule's entries; ``key`` names it in the signal id."""

    key: str
    start_ms: int
    end_ms: int
    members: Sequence[Entry]
    dedupe_by_key: bool  # aligned windows fire once per key; others once per overlap
    running: RunningWindow | None = None  # the members' aggregates, kept current


def _ms(value: timedelta) -> int:
    return int(value.total_seconds() * 1000)


def windows_for(
    rule: CompiledRule, state: EntityState, entry: Entry, incremental: bool = True
) -> Iterator[Window]:
    """The windows that contain ``entry``, earliest first.

    Entries are in event-time order and a window is a run of them around ``entry``, so
    only that run is visited (for an in-order event, its own window): no full scan.
    With ``incremental``, the sliding or tumbling window of an in-order entry is kept
    running (see ``running``) instead of read again.
    """
    assert rule.doc.window is not None
    entries = state.entries
    position = _position(entries, entry)
    kind = rule.window_type
    if kind == "count":
        yield from _count_windows(entries, rule.tag, position, rule.window_size)
        return
    ts = entry.ts_ms
    last = position == len(entries) - 1
    if kind == "sliding":
        # Equal times: the windows of the entries before this one see it too.
        if incremental and last and (position == 0 or entries[position - 1].ts_ms < ts):
            running = _running(rule, state, entry, position, None)
            if running is not None:
                start = ts - rule.window_size + 1
                yield Window(f"s:{entry.event_id}", start, ts, running.members, False, running)
                return
        state.running.pop(rule.tag, None)  # it would miss this entry from now on
        yield from _sliding_windows(rule, entries, position)
        return
    if kind == "tumbling" and incremental and last:
        start = ts // rule.window_hop * rule.window_hop
        running = _running(rule, state, entry, position, start)
        if running is not None:
            end = start + rule.window_size - 1
            yield Window(f"t:{start}", start, end, running.members, True, running)
            return
    state.running.pop(rule.tag, None)
    yield from _aligned_windows(rule, entries, position)


def _sliding_windows(rule: CompiledRule, entries: list[Entry], position: int) -> Iterator[Window]:
    """Every window ending at an entry that sees the one at ``position``: its own, and
    those of later entries when it arrived out of order."""
    tag = rule.tag
    size = rule.window_size
    ts = entries[position].ts_ms
    first = position
    while first > 0 and entries[first - 1].ts_ms >= ts:
        first -= 1
    count = len(entries)
    for index in range(first, count):
        end = entries[index]
        if end.ts_ms >= ts + size:
            break
        if not end.flags.get(tag, 0) & 1:
            continue
        start = end.ts_ms - size + 1
        # Members: start <= ts and sort_key <= the end's (equal keys included).
        stop = index + 1
        while stop < count and entries[stop].sort_key <= end.sort_key:
            stop += 1
        low = index
        while low > 0 and entries[low - 1].ts_ms >= start:
            low -= 1
        members = [item for item in entries[low:stop] if item.flags.get(tag, 0) & 1]
        yield Window(f"s:{end.event_id}", start, end.ts_ms, members, dedupe_by_key=False)


def _aligned_windows(rule: CompiledRule, entries: list[Entry], position: int) -> Iterator[Window]:
    """The tumbling or hopping windows holding the entry at ``position``."""
    tag = rule.tag
    size = rule.window_size
    hop = rule.window_hop
    kind = rule.window_type
    ts = entries[position].ts_ms
    starts = []
    start = ts // hop * hop
    while start > ts - size:
        starts.append(start)
        start -= hop
    for start in reversed(starts):  # each holds the entry: start <= ts < start + size
        low = position
        while low > 0 and entries[low - 1].ts_ms >= start:
            low -= 1
        high = position + 1
        while high < len(entries) and entries[high].ts_ms < start + size:
            high += 1
        members = [item for item in entries[low:high] if item.flags.get(tag, 0) & 1]
        yield Window(f"{kind[0]}:{start}", start, start + size - 1, members, dedupe_by_key=True)


def _running(
    rule: CompiledRule, state: EntityState, entry: Entry, position: int, aligned: int | None
) -> RunningWindow | None:
    """The rule's running window, moved on to take ``entry`` (the entity's latest; for a
    sliding window with no other entry at its time): sliding, or the tumbling window
    starting at ``aligned``. None when a value cannot be taken exactly."""
    tag = rule.tag
    entries = state.entries
    running: RunningWindow | None = state.running.get(tag)
    try:
        if running is not None and running.start_ms == aligned:
            if aligned is None:
                running.expire(entry.ts_ms)
            members = running.members
            # Entries evicted from under the window (the entity's entry cap) stop it.
            if not members or entries[0].sort_key <= members[0].sort_key:
                running.push(entry)
                return running
        start = entry.ts_ms - rule.window_size + 1 if aligned is None else aligned
        low = bisect.bisect_left(entries, start, 0, position, key=_ts)
        running = running_window(
            rule,
            [item for item in entries[low : position + 1] if item.flags.get(tag, 0) & 1],
            aligned,
        )
    except Unsupported:
        running = None
    if running is None:
        state.running.pop(tag, None)
    else:
        state.running[tag] = running
    return running


def _position(entries: list[Entry], entry: Entry) -> int:
    """The index of ``entry`` itself (usually the last: events mostly come in order)."""
    if entries and entries[-1] is entry:
        return len(entries) - 1
    position = bisect.bisect_left(entries, entry.sort_key, key=_sort_key)
    while entries[position] is not entry:
        position += 1
    return position


def _count_windows(entries: list[Entry], tag: str, position: int, size: int) -> Iterator[Window]:
    """The windows of ``size`` consecutive rule entries that hold the entry at
    ``position``: only the ``size - 1`` rule entries either side of it can be in one."""
    before: list[Entry] = []
    index = position - 1
    while len(before) < size - 1 and index >= 0:
        if entries[index].flags.get(tag, 0) & 1:
            before.append(entries[index])
        index -= 1
    after: list[Entry] = []
    index = position + 1
    while len(after) < size - 1 and index < len(entries):
        if entries[index].flags.get(tag, 0) & 1:
            after.append(entries[index])
        index += 1
    taken = [*reversed(before), entries[position], *after]
    position = len(before)
    for end in range(position, min(len(taken), position + size)):
        members = taken[max(0, end - size + 1) : end + 1]
        if len(members) < size:
            continue
        yield Window(
            f"c:{taken[end].event_id}",
            members[0].ts_ms,
            members[-1].ts_ms,
            members,
            dedupe_by_key=False,
        )


def _ts(entry: Entry) -> int:
    return entry.ts_ms


def _sort_key(entry: Entry) -> tuple[int, str]:
    return entry.sort_key


def _values(
    members: Sequence[Entry], member_bits: list[int], bit: int, path: tuple[str, ...]
) -> list[Any]:
    """The field of every member with the aggregate's bit."""
    if len(path) == 1:  # a top-level field (an entry's fields are a dict)
        name = path[0]
        return [
            item.fields.get(name)
            for item, bits in zip(members, member_bits, strict=True)
            if bits & bit
        ]
    return [
        field_of(item.fields, path)
        for item, bits in zip(members, member_bits, strict=True)
        if bits & bit
    ]


def _reduce(fn: str, values: list[Any]) -> Decimal:
    """sum, min, max or mean of the values that are numbers (0 when none is)."""
    numbers = [amount for amount in map(number, values) if amount is not None]
    if not numbers:
        return Decimal(0)
    if fn == "sum":
        return sum(numbers, Decimal(0))
    if fn == "min":
        return min(numbers)
    if fn == "max":
        return max(numbers)
    return sum(numbers, Decimal(0)) / len(numbers)


def aggregate(
    rule: CompiledRule, state: EntityState, window: Window, entry: Entry
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The window's aggregates twice: for CEL (numbers) and for the signal (money as text)."""
    tag = rule.tag
    for_cel: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    ratios: list[CompiledAggregate] = []
    # The running window's aggregators, in the order of the rule's (see RunningWindow).
    running = iter(window.running.parts) if window.running is not None else None
    window_members = window.members
    member_bits = [item.flags.get(tag, 0) for item in window_members] if running is None else []
    for agg in rule.aggregates:
        spec = agg.spec
        if spec.fn == "ratio":
            ratios.append(agg)
            continue
        if spec.fn in {"baseline_mean", "deviation"}:
            mean, days = baseline_mean(state, rule, agg, entry.ts_ms)
            if spec.fn == "deviation":
                current = number(field_of(entry.fields, agg.path))
                value = float(current) / mean if current is not None and mean > 0 else 0.0
            else:
                value = mean
            for_cel[agg.name] = value
            for_cel[f"{agg.name}_days"] = days
            shown[agg.name] = round(value, 6)
            shown[f"{agg.name}_days"] = days
            continue
        if running is not None:
            for_cel[agg.name], shown[agg.name] = next(running)[3].result()
            continue
        bit = agg.bit
        if spec.fn == "count":
            count = sum(1 for bits in member_bits if bits & bit)
            for_cel[agg.name] = shown[agg.name] = count
            continue
        values = _values(window_members, member_bits, bit, agg.path)
        if spec.fn == "distinct":
            distinct = {str(value) for value in values if value is not None}
            for_cel[agg.name] = shown[agg.name] = len(distinct)
            continue
        result = _reduce(spec.fn, values)
        for_cel[agg.name] = float(result)
        shown[agg.name] = (
            format(result.normalize(), "f") if spec.fn != "mean" else str(round(result, 4))
        )
    for agg in ratios:
        assert agg.spec.of is not None
        numerator, denominator = (for_cel[name] for name in agg.spec.of)
        value = float(numerator) / float(denominator) if denominator else 0.0
        for_cel[agg.name] = value
        shown[agg.name] = round(value, 6)
    return for_cel, shown


def baseline_mean(
    state: EntityState, rule: CompiledRule, agg: CompiledAggregate, ts_ms: int
) -> tuple[float, int]:
    """Mean of the field per event over the horizon's days before the event's day."""
    assert agg.spec.horizon is not None
    days = state.baselines.get(f"{rule.id}/{agg.name}", {})
    today = ts_ms // DAY_MS
    horizon = int(agg.spec.horizon.total_seconds() // 86400)
    count = total = 0.0
    used = 0
    for day, (day_count, day_sum) in days.items():
        if today - horizon <= day < today:
            count += day_count
            total += day_sum
            used += 1
    return (total / count if count else 0.0), used


def update_baselines(state: EntityState, rule: CompiledRule, entry: Entry) -> None:
    bits = entry.flags.get(rule.tag, 0)
    for agg in rule.with_horizon:
        if not bits & agg.bit:
            continue
        value = number(field_of(entry.fields, agg.path))
        if value is None:
            continue
        day = state.baselines.setdefault(f"{rule.id}/{agg.name}", {}).setdefault(
            entry.ts_ms // DAY_MS, [0.0, 0.0]
        )
        day[0] += 1
        day[1] += float(value)
