"""How many events per second ``riskstream replay`` gets through on one core.

Generates a seeded, labelled data set with ``riskstream simulate`` (realistic customers,
merchants, trips and every pack scenario injected), then times the whole replay of it
as the command runs it (reading and validating the JSONL, the default pack, a decision
for every transaction, signals and decisions written to a temporary directory), on the
native runtime and on the Python reference engine, and checks that both wrote the same
bytes. Each figure is given per second of wall-clock time and per second of the
process's CPU time: on a shared machine the second is the steadier measure of one core.

    .venv/bin/python -m benchmarks.replay [--customers 8000] [--days 1] [--repeat 5]
        [--reference-events 20000] [--plan PLAN.json]

``--plan`` also writes the rule plan the native runtime reads, for profiling it without
Python: ``cargo run --release --no-default-features --example replay_bench -- PLAN.json
EVENTS.jsonl`` in ``native/``.
"""

from __future__ import annotations

import argparse
import filecmp
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from benchmarks.figures import figures_table
from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.native import available, plan_of
from riskstream.offline.rules import rule_center
from riskstream.offline.run import Engine, ReplayOutputs, replay_file
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


def timed_replay(events: Path, outputs: ReplayOutputs, engine: Engine) -> Timing:
    quiet = Console(quiet=True)
    wall, cpu = time.perf_counter(), time.process_time()
    stats, _ = replay_file(events, outputs, console=quiet, engine=engine)
    return Timing(stats.events, time.perf_counter() - wall, time.process_time() - cpu)


def head(source: Path, target: Path, lines: int) -> Path:
    with source.open("rb") as reader, target.open("wb") as writer:
        for number, line in enumerate(reader):
            if number >= lines:
                break
            writer.write(line)
    return target


def same_outputs(first: ReplayOutputs, second: ReplayOutputs) -> bool:
    pairs = [(first.signals, second.signals), (first.decisions, second.decisions)]
    return all(
        a is not None and b is not None and filecmp.cmp(a, b, shallow=False) for a, b in pairs
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=8000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reference-events", type=int, default=20_000,
        help="Time the Python reference on this many events (it is ~30x slower).",
    )  # fmt: skip
    parser.add_argument("--plan", type=Path, default=None, help="Write the native plan here.")
    args = parser.parse_args()
    console = Console()
    if not available():
        raise SystemExit("the native runtime is not built: run `make install`")
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
            native.append(timed_replay(events, outputs, "native"))
            console.print(
                f"native run {run + 1}: {native[-1].per_wall_second:,.0f} events/s "
                f"({native[-1].per_cpu_second:,.0f} per CPU second)"
            )
        sample = head(events, base / "sample.jsonl", args.reference_events)
        with console.status("timing the reference engine on a sample"):
            sample_native = ReplayOutputs(base / "sn.jsonl", base / "dn.jsonl")
            reference_outputs = ReplayOutputs(base / "sp.jsonl", base / "dp.jsonl")
            timed_replay(sample, sample_native, "native")
            reference = timed_replay(sample, reference_outputs, "python")
        identical = same_outputs(sample_native, reference_outputs)
    wall = statistics.median(timing.per_wall_second for timing in native)
    cpu = statistics.median(timing.per_cpu_second for timing in native)
    rows = [
        ("events replayed", f"{native[0].events:,}"),
        ("native: events/s, whole command (median)", f"{wall:,.0f}"),
        ("native: events/s per CPU second (median)", f"{cpu:,.0f}"),
        ("native: us/event (CPU)", f"{1e6 / cpu:,.1f}"),
        # The first run's memory is all new to the process, and fresh pages cost the most
        # on a virtual machine; the later runs reuse some (the median is of all runs).
        ("native: first run, events/s", f"{native[0].per_wall_second:,.0f}"),
        (f"reference ({reference.events:,} events): events/s", f"{reference.per_wall_second:,.0f}"),
        ("reference: events/s per CPU second", f"{reference.per_cpu_second:,.0f}"),
        ("native and reference outputs identical", "yes" if identical else "NO"),
    ]
    console.print(figures_table("replay: simulated events, default pack and scoring rules", rows))
    if not identical:
        raise SystemExit("the native runtime's output differs from the reference's")


if __name__ == "__main__":
    main()
