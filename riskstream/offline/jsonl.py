"""Reading contract-v1 events from JSONL: every line accounted for, bad ones by number."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.streams.events import Event

MAX_LINE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}: {self.detail}"


@dataclass(frozen=True, slots=True)
class NumberedEvent:
    line: int
    event: Event


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, bytes) of every non-blank line."""
    with path.open("rb") as source:
        for number, raw in enumerate(source, start=1):
            stripped = raw.strip()
            if stripped:
                yield number, stripped


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (left alone if already off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def read_events(
    path: Path, max_bytes: int = MAX_LINE_BYTES
) -> tuple[list[NumberedEvent], list[BadLine]]:
    """Every valid event of the file, and every invalid line with its reason."""
    events: list[NumberedEvent] = []
    bad: list[BadLine] = []
    # Every event is kept, so the collections its allocations trigger free nothing and rescan
    # a growing heap (~40% of the parse time on 50k lines). Parsing leaves no cycles behind
    # (refcounting frees the rest); collection resumes after the loop.
    with _cyclic_gc_paused():
        for number, raw in read_lines(path):
            try:
                events.append(NumberedEvent(number, parse_event(raw, max_bytes=max_bytes)))
            except InvalidEventError as error:
                bad.append(BadLine(number, error.rejection.reason, error.rejection.detail))
    return events, bad


def in_event_time_order(events: list[NumberedEvent]) -> list[NumberedEvent]:
    """Sorted by occurred_at; events of the same instant keep their order in the file."""
    return sorted(events, key=lambda item: (item.event.occurred_ms, item.line))
