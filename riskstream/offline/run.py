"""``riskstream replay``: events file in; signals and decisions files out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.jsonl import BadLine
from riskstream.offline.native import NativeReplay, ReplayStats
from riskstream.offline.rules import rule_center
from riskstream.streams.codec import dumps

# Events the core replays at a time (the progress bar moves on between two).
NATIVE_CHUNK = 50_000
PROGRESS_FROM = 20_000  # events: a shorter replay shows no progress bar


@dataclass(frozen=True, slots=True)
class ReplayOutputs:
    signals: Path | None = None
    decisions: Path | None = None
    shadow: Path | None = None


def replay_file(
    events_path: Path,
    outputs: ReplayOutputs,
    rules: Path | None = None,
    policy: DecisionPolicy | None = None,
    console: Console | None = None,
) -> tuple[ReplayStats, list[BadLine]]:
    """Replay a JSONL file of events on the core; write what was asked for; report bad
    lines. :class:`RuleError` for rules the core cannot run, ``Unsupported`` for a value
    or an evaluation it cannot (see :mod:`riskstream.offline.native`)."""
    console = console or Console(stderr=True)
    native = NativeReplay(rule_center(rules), policy)
    bad = native.load(events_path)
    _report(console, events_path, bad)
    total = len(native)
    with _sinks(outputs) as sinks, _progress(console, total) as progress:
        task = progress.add_task("replaying", total=total)
        for start in range(0, total, NATIVE_CHUNK):
            decisions, signals, shadow = native.run(NATIVE_CHUNK)
            if "decisions" in sinks:
                sinks["decisions"].write(decisions)
            for name, items in (("signals", signals), ("shadow", shadow)):
                if name in sinks:
                    sinks[name].write(b"".join(dumps(signal) + b"\n" for signal in items))
            progress.update(task, advance=min(NATIVE_CHUNK, total - start))
    return native.stats, bad


def _report(console: Console, events_path: Path, bad: list[BadLine]) -> None:
    for line in bad[:20]:
        console.print(f"skipped {events_path}:{line}", markup=False, soft_wrap=True)
    if len(bad) > 20:
        console.print(f"skipped {len(bad) - 20} more invalid lines", soft_wrap=True)


@contextmanager
def _sinks(outputs: ReplayOutputs) -> Iterator[dict[str, BinaryIO]]:
    """The output files asked for, open for writing (truncated)."""
    sinks: dict[str, BinaryIO] = {}
    try:
        for name, path in (
            ("signals", outputs.signals),
            ("decisions", outputs.decisions),
            ("shadow", outputs.shadow),
        ):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                sinks[name] = path.open("wb")
        yield sinks
    finally:
        for sink in sinks.values():
            sink.close()


def _progress(console: Console, total: int) -> Progress:
    return Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=console, transient=True,
        disable=total < PROGRESS_FROM,
    )  # fmt: skip


def summary_table(stats: ReplayStats, bad: list[BadLine]) -> Table:
    table = Table(title="replay")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("events replayed", f"{stats.events:,}")
    table.add_row("invalid lines skipped", f"{len(bad):,}")
    for status, count in sorted(stats.statuses.items()):
        table.add_row(f"  {status}", f"{count:,}")
    table.add_row("transactions decided", f"{stats.transactions:,}")
    for decision, count in sorted(stats.decisions.items()):
        table.add_row(f"  {decision}", f"{count:,}")
    table.add_row("signals", f"{sum(stats.signals_by_rule.values()):,}")
    for rule_id, count in sorted(stats.signals_by_rule.items()):
        table.add_row(f"  {rule_id}", f"{count:,}")
    if stats.shadow_by_rule:
        table.add_row("shadow signals", f"{sum(stats.shadow_by_rule.values()):,}")
        for rule_id, count in sorted(stats.shadow_by_rule.items()):
            table.add_row(f"  {rule_id}", f"{count:,}")
    table.add_row("events/s", f"{stats.events_per_second:,.0f}")
    return table
