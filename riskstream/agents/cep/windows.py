"""Windows over an entity's entries, and the aggregates computed on them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from riskstream.agents.cep.compiler import CompiledAggregate, CompiledRule
from riskstream.tables.entity_state import EntityState, Entry

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Window:
    """A set of the rule's entries; ``key`` names it in the signal id."""

    key: str
    start_ms: int
    end_ms: int
    members: list[Entry]
    dedupe_by_key: bool  # aligned windows fire once per key; others once per overlap


def _ms(value: timedelta) -> int:
    return int(value.total_seconds() * 1000)


def windows_for(rule: CompiledRule, state: EntityState, entry: Entry) -> Iterator[Window]:
    """The windows that contain ``entry``, earliest first."""
    spec = rule.doc.window
    assert spec is not None
    tag = rule.tag
    taken = [item for item in state.entries if item.flags.get(tag, 0) & 1]
    if spec.type == "count":
        assert isinstance(spec.size, int)
        yield from _count_windows(taken, entry, spec.size)
        return
    assert isinstance(spec.size, timedelta)
    size = _ms(spec.size)
    if spec.type == "sliding":
        # Every window ending at an entry that sees this one: the entry's own, and those
        # of later entries when this one arrived out of order.
        for end in taken:
            if end.ts_ms < entry.ts_ms or end.ts_ms >= entry.ts_ms + size:
                continue
            start = end.ts_ms - size + 1
            members = [
                item for item in taken if start <= item.ts_ms and item.sort_key <= end.sort_key
            ]
            yield Window(f"s:{end.event_id}", start, end.ts_ms, members, dedupe_by_key=False)
        return
    hop = size if spec.type == "tumbling" else _ms(spec.hop or spec.size)
    starts = []
    start = entry.ts_ms // hop * hop
    while start > entry.ts_ms - size:
        starts.append(start)
        start -= hop
    for start in reversed(starts):
        members = [item for item in taken if start <= item.ts_ms < start + size]
        yield Window(
            f"{spec.type[0]}:{start}", start, start + size - 1, members, dedupe_by_key=True
        )


def _count_windows(taken: list[Entry], entry: Entry, size: int) -> Iterator[Window]:
    position = next(index for index, item in enumerate(taken) if item is entry)
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


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _field(entry: Entry, path: str) -> Any:
    value: Any = entry.fields
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def aggregate(
    rule: CompiledRule, state: EntityState, window: Window, entry: Entry
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The window's aggregates twice: for CEL (numbers) and for the signal (money as text)."""
    tag = rule.tag
    for_cel: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    ratios: list[CompiledAggregate] = []
    for agg in rule.aggregates:
        spec = agg.spec
        if spec.fn == "ratio":
            ratios.append(agg)
            continue
        if spec.fn in {"baseline_mean", "deviation"}:
            mean, days = baseline_mean(state, rule, agg, entry.ts_ms)
            if spec.fn == "deviation":
                current = _number(_field(entry, spec.field or ""))
                value = float(current) / mean if current is not None and mean > 0 else 0.0
            else:
                value = mean
            for_cel[agg.name] = value
            for_cel[f"{agg.name}_days"] = days
            shown[agg.name] = round(value, 6)
            shown[f"{agg.name}_days"] = days
            continue
        members = [item for item in window.members if item.flags.get(tag, 0) & agg.bit]
        if spec.fn == "count":
            for_cel[agg.name] = shown[agg.name] = len(members)
            continue
        values = [_field(item, spec.field or "") for item in members]
        if spec.fn == "distinct":
            distinct = {str(value) for value in values if value is not None}
            for_cel[agg.name] = shown[agg.name] = len(distinct)
            continue
        numbers = [number for number in map(_number, values) if number is not None]
        result: Decimal
        if not numbers:
            result = Decimal(0)
        elif spec.fn == "sum":
            result = sum(numbers, Decimal(0))
        elif spec.fn == "min":
            result = min(numbers)
        elif spec.fn == "max":
            result = max(numbers)
        else:
            result = sum(numbers, Decimal(0)) / len(numbers)
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
    for agg in rule.aggregates:
        if agg.spec.horizon is None or not bits & agg.bit:
            continue
        value = _number(_field(entry, agg.spec.field or ""))
        if value is None:
            continue
        day = state.baselines.setdefault(f"{rule.id}/{agg.name}", {}).setdefault(
            entry.ts_ms // DAY_MS, [0.0, 0.0]
        )
        day[0] += 1
        day[1] += float(value)
