"""JSONL files: their lines by number, and the lines refused with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_LINE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}: {self.detail}"


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, bytes) of every non-blank line."""
    with path.open("rb") as source:
        for number, raw in enumerate(source, start=1):
            stripped = raw.strip()
            if stripped:
                yield number, stripped
