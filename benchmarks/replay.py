"""How many events per second ``riskstream replay`` gets through on one core.

Generates a seeded, labelled data set with ``riskstream simulate`` (realistic customers,
merchants, trips and every pack scenario injected), then times the whole replay of it
as the command runs it on the core (reading and validating the JSONL, the default pack, a
decision for every transaction, signals and decisions written to a temporary directory).
Each figure is given per second of wall-clock time and per second of the process's CPU
time: on a shared machine the second is the steadier measure of one core.

    .venv/bin/python -m benchmarks.replay [--customers 8000] [--days 1] [--repeat 5]
        [--fresh 5] [--plan PLAN.json]

``--repeat`` runs replay one after the other in this process; ``--fresh`` runs it once in
each of that many new processes (timed after their imports), as a single ``riskstream
replay`` runs: all of its memory is new to it, which costs the most on a virtual machine.

``--plan`` also writes the rule plan the native runtime reads, for profiling it without
Python: ``cargo run --release --no-default-features --example replay_bench -- PLAN.json
EVENTS.jsonl`` in ``native/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from benchmarks.figures import figures_table
from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.native import plan_of
from riskstream.offline.rules import rule_center
from riskstream.offline.run import ReplayOutputs, replay_file
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.simulation.output import write_events


@dataclass(frozen=True, slots=True)
class Timing:
    events: int
    wall: float
    cpu: float

    @property
    def per_wall_second(self) -> float:
        return self.events / self.wall

    @property
    def per_cpu_second(self) -> float:
        return self.events / self.cpu


def timed_replay(events: Path, outputs: ReplayOutputs) -> Timing:
    quiet = Console(quiet=True)
    wall, cpu = time.perf_counter(), time.process_time()
    stats, _ = replay_file(events, outputs, console=quiet)
    return Timing(stats.events, time.perf_counter() - wall, time.process_time() - cpu)


def fresh_replay(events: Path, folder: Path) -> Timing:
    """One replay in a new process, timed there as ``timed_replay`` times it."""
    command = [sys.executable, "-m", "benchmarks.replay", "--time-once", str(events), str(folder)]
    answer = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures = json.loads(answer.splitlines()[-1])
    return Timing(figures["events"], figures["wall"], figures["cpu"])


def time_once(events: Path, folder: Path) -> None:
    """``--time-once``: the child of ``fresh_replay``; prints its timing as JSON."""
    outputs = ReplayOutputs(folder / "fresh-signals.jsonl", folder / "fresh-decisions.jsonl")
    timing = timed_replay(events, outputs)
    print(json.dumps({"events": timing.events, "wall": timing.wall, "cpu": timing.cpu}))


def fresh_rows(fresh: list[Timing]) -> list[tuple[str, str]]:
    if not fresh:
        return []
    rates = sorted(timing.per_wall_second for timing in fresh)
    return [
        ("native: fresh process, events/s (median)", f"{statistics.median(rates):,.0f}"),
        ("native: fresh process, slowest and fastest", f"{rates[0]:,.0f} - {rates[-1]:,.0f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=8000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fresh", type=int, default=5)
    parser.add_argument("--time-once", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--plan", type=Path, default=None, help="Write the native plan here.")
    args = parser.parse_args()
    if args.time_once is not None:
        time_once(*args.time_once)
        return
    console = Console()
    if args.plan is not None:
        args.plan.write_bytes(plan_of(rule_center(None), DecisionPolicy()))
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        events = base / "events.jsonl"
        with console.status("simulating the data set"):
            config = SimulationConfig(seed=7, customers=args.customers, days=args.days)
            write_events(generate(config), events, Console(quiet=True))
        native: list[Timing] = []
        for run in range(args.repeat):
            outputs = ReplayOutputs(base / f"s{run}.jsonl", base / f"d{run}.jsonl")
            native.append(timed_replay(events, outputs))
            console.print(
                f"native run {run + 1}: {native[-1].per_wall_second:,.0f} events/s "
                f"({native[-1].per_cpu_second:,.0f} per CPU second)"
            )
        fresh: list[Timing] = []
        for run in range(args.fresh):
            fresh.append(fresh_replay(events, base))
            console.print(
                f"native, fresh process {run + 1}: {fresh[-1].per_wall_second:,.0f} events/s "
                f"({fresh[-1].per_cpu_second:,.0f} per CPU second)"
            )
    wall = statistics.median(timing.per_wall_second for timing in native)
    cpu = statistics.median(timing.per_cpu_second for timing in native)
    rows = [
        ("events replayed", f"{native[0].events:,}"),
        ("native: events/s, whole command (median)", f"{wall:,.0f}"),
        ("native: events/s per CPU second (median)", f"{cpu:,.0f}"),
        ("native: us/event (CPU)", f"{1e6 / cpu:,.1f}"),
        # A new process's memory is all new, and fresh pages cost the most on a virtual
        # machine; runs in one process reuse some.
        *fresh_rows(fresh),
    ]
    console.print(figures_table("replay: simulated events, default pack and scoring rules", rows))


if __name__ == "__main__":
    main()
