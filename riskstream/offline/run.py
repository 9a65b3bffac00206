"""``riskstream replay``: events file in; signals and decisions files out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.jsonl import BadLine, in_event_time_order, read_events
from riskstream.offline.replay import Replayer, ReplayStats, Step, decision_line
from riskstream.offline.rules import rule_center
from riskstream.streams.codec import dumps

PROGRESS_EVERY = 5_000


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
    """Replay a JSONL file of events; write what was asked for; report bad lines."""
    console = console or Console(stderr=True)
    center = rule_center(rules)
    events, bad = read_events(events_path)
    for line in bad[:20]:
        console.print(f"skipped {events_path}:{line}", markup=False, soft_wrap=True)
    if len(bad) > 20:
        console.print(f"skipped {len(bad) - 20} more invalid lines", soft_wrap=True)
    ordered = in_event_time_order(events)
    replayer = Replayer(center, policy)
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
        write = _writer(sinks)
        with Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=console, transient=True,
            disable=len(ordered) < 4 * PROGRESS_EVERY,
        ) as progress:  # fmt: skip
            task = progress.add_task("replaying", total=len(ordered))
            for start in range(0, len(ordered), PROGRESS_EVERY):
                replayer.run(ordered[start : start + PROGRESS_EVERY], write)
                progress.update(task, advance=min(PROGRESS_EVERY, len(ordered) - start))
    finally:
        for sink in sinks.values():
            sink.close()
    return replayer.stats, bad


def _writer(sinks: dict[str, BinaryIO]) -> Callable[[Step], None]:
    signals, decisions, shadow = (sinks.get(name) for name in ("signals", "decisions", "shadow"))

    def write(step: Step) -> None:
        if signals is not None:
            for signal in step.signals:
                signals.write(dumps(signal) + b"\n")
        if shadow is not None:
            for signal in step.shadow:
                shadow.write(dumps(signal) + b"\n")
        if decisions is not None and step.decision is not None:
            decisions.write(dumps(decision_line(step.decision)) + b"\n")

    return write


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
