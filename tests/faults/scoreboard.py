"""One row per scenario, printed as it ends and as a table at the end of the session."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from tests.faults.verdict import Verdict


@dataclass
class Row:
    scenario: str
    sent: int
    verdict: Verdict
    recoveries: list[float] = field(default_factory=list)  # restart -> caught up, seconds
    stats: dict[str, int] = field(default_factory=dict)  # the last worker's /stats/ counters
    exact: bool = False
    seconds: float = 0.0  # the scenario's wall-clock time
    notes: list[str] = field(default_factory=list)  # what the differences are

    def cells(self) -> list[str]:
        verdict = self.verdict
        recovery = ", ".join(f"{seconds:.1f}" for seconds in self.recoveries) or "-"
        return [
            self.scenario,
            f"{self.sent:,}",
            f"{len(verdict.published)}/{verdict.expected}",
            str(len(verdict.missing)),
            str(len(verdict.unexpected)),
            str(len(verdict.changed)),
            str(verdict.republished),
            recovery,
            str(self.stats.get("late", "-")),
            "exact" if self.exact else "DIFFERS",
            f"{self.seconds:.0f}",
        ]


HEADER = [
    "scenario", "sent", "ids live/replay", "missing", "unexpected", "changed",
    "republished", "recovery s", "late", "result", "took s",
]  # fmt: skip

ROWS: list[Row] = []


def table(rows: list[Row]) -> list[str]:
    grid = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in grid) for column in range(len(HEADER))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
             for line in grid]  # fmt: skip
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return lines


def save(row: Row, path: Path) -> None:
    """The row with every difference in full, as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = asdict(row)
    body["verdict"].pop("published")  # replay's signals, or listed below
    path.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
