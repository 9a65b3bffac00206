"""Windows kept up to date as events come in order, instead of re-read per event.

A sliding window ends at each of the rule's entries and reaches ``size`` back. When the
entries arrive in event-time order, the window of the newest one is the previous
window plus that entry, minus what fell out at the front (a tumbling window: plus that
entry, until the next window starts); each aggregate is updated by
what comes in and what goes out (an aggregator: initialise, add, remove, result). The
results are the very values a full read of the window gives (``windows.aggregate``): a
differential test holds them to that. Anything else (an entry out of order, a rule
version's new match bits, entries evicted from inside the window) drops the running
window, and the next in-order entry starts it again from the entries.

Running windows live beside the entity state, never in its changelog record: a state read
back from the table starts without them.
"""

from __future__ import annotations

from collections import Counter, deque
from decimal import Decimal
from typing import Any

from riskstream.agents.cep.compiler import CompiledAggregate, CompiledRule
from riskstream.tables.entity_state import Entry

# Sums stay exact while every partial sum fits Decimal's 28 digits; far more than money
# needs, and checked: a value outside this range makes the window fall back.
_MAX_ADJUSTED = 15
_MIN_EXPONENT = -8


def number(value: Any) -> Decimal | None:
    """A value as the window aggregates read it (see ``windows._number``)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(value if type(value) is str else str(value))
    except ArithmeticError:
        return None


def field_of(fields: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at a dotted path (split), None where there is none."""
    if len(path) == 1:
        return fields.get(path[0])
    value: Any = fields
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class Unsupported(Exception):  # noqa: N818 - a signal, not an error
    """A value the running form cannot take exactly: read the window in full instead."""


class _Count:
    def __init__(self) -> None:
        self.n = 0

    def add(self, value: Any) -> None:
        self.n += 1

    def remove(self, value: Any) -> None:
        self.n -= 1

    def result(self) -> tuple[Any, Any]:
        return self.n, self.n


class _Distinct:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def add(self, value: Any) -> None:
        if value is not None:
            self.values[str(value)] += 1

    def remove(self, value: Any) -> None:
        if value is not None:
            key = str(value)
            left = self.values[key] - 1
            if left:
                self.values[key] = left
            else:
                del self.values[key]

    def result(self) -> tuple[Any, Any]:
        return len(self.values), len(self.values)


def _exact(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise Unsupported
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if value.adjusted() > _MAX_ADJUSTED or exponent < _MIN_EXPONENT:
        raise Unsupported
    return value


class _Sum:
    """sum and mean: a running total of the values that are numbers."""

    def __init__(self, mean: bool) -> None:
        self.mean = mean
        self.total = Decimal(0)
        self.n = 0

    def add(self, value: Any) -> None:
        amount = number(value)
        if amount is not None:
            self.total += _exact(amount)
            self.n += 1

    def remove(self, value: Any) -> None:
        amount = number(value)
        if amount is not None:
            self.total -= amount
            self.n -= 1

    def result(self) -> tuple[Any, Any]:
        if not self.n:
            return 0.0, "0" if not self.mean else str(round(Decimal(0), 4))
        if self.mean:
            result = self.total / self.n
            return float(result), str(round(result, 4))
        return float(self.total), format(self.total.normalize(), "f")


class _Extreme:
    """min or max; re-read from the members when the extreme itself leaves."""

    def __init__(self, largest: bool) -> None:
        self.largest = largest
        self.members: deque[Decimal] = deque()  # the window's numbers, in order
        self.best: Decimal | None = None

    def add(self, value: Any) -> None:
        amount = number(value)
        if amount is None:
            return
        if not amount.is_finite():
            raise Unsupported
        self.members.append(amount)
        best = self.best
        if best is None or (amount > best if self.largest else amount < best):
            self.best = amount

    def remove(self, value: Any) -> None:
        amount = number(value)
        if amount is None:
            return
        gone = self.members.popleft()
        if gone == self.best:
            self.best = (max if self.largest else min)(self.members, default=None)

    def result(self) -> tuple[Any, Any]:
        best = self.best if self.best is not None else Decimal(0)
        return float(best), format(best.normalize(), "f")


Aggregator = _Count | _Distinct | _Sum | _Extreme


def _aggregator(agg: CompiledAggregate) -> Aggregator:
    fn = agg.spec.fn
    if fn == "count":
        return _Count()
    if fn == "distinct":
        return _Distinct()
    if fn in {"sum", "mean"}:
        return _Sum(mean=fn == "mean")
    if fn in {"min", "max"}:
        return _Extreme(fn == "max")
    raise Unsupported  # baselines and ratios are not window contents


class RunningWindow:
    """One rule's window over an entity's in-order entries, kept current: sliding (ends at
    the latest entry), or the tumbling window starting at ``start_ms``."""

    def __init__(self, rule: CompiledRule, start_ms: int | None = None) -> None:
        self.tag = rule.tag
        self.size = rule.window_size
        self.start_ms = start_ms
        self.members: deque[Entry] = deque()
        # (name, bit, field path, aggregator) of each aggregate a window holds (not ratios
        # or baselines), in the rule's order: ``windows.aggregate`` reads them in turn.
        self.parts = [
            (agg.name, agg.bit, agg.path, _aggregator(agg))
            for agg in rule.aggregates
            if agg.spec.fn not in {"ratio", "baseline_mean", "deviation"}
        ]

    def expire(self, ts_ms: int) -> None:
        """Drop the members out of reach of a window ending at ``ts_ms``."""
        start = ts_ms - self.size + 1
        members = self.members
        while members and members[0].ts_ms < start:
            self._apply(members.popleft(), remove=True)

    def push(self, entry: Entry) -> None:
        """Add ``entry``, later than every member."""
        self.members.append(entry)
        self._apply(entry, remove=False)

    def _apply(self, entry: Entry, remove: bool) -> None:
        bits = entry.flags.get(self.tag, 0)
        fields = entry.fields
        for _, bit, path, aggregator in self.parts:
            if bits & bit:
                value = field_of(fields, path)
                if remove:
                    aggregator.remove(value)
                else:
                    aggregator.add(value)


def running_window(
    rule: CompiledRule, members: list[Entry], start_ms: int | None = None
) -> RunningWindow | None:
    """A running window holding ``members`` (the window's entries, in order); None when
    a value cannot be taken exactly."""
    window = RunningWindow(rule, start_ms)
    try:
        for entry in members:
            window.members.append(entry)
            window._apply(entry, remove=False)
    except Unsupported:
        return None
    return window
