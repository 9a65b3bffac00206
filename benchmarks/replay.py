"""How many events per second ``riskstream replay`` gets through on one core.

Generates a seeded, labelled data set with ``riskstream simulate`` (realistic customers,
merchants, trips and every pack scenario injected), then times the replay of it:
reading and validating the JSONL, the default pack, a decision for every transaction,
writing signals and decisions to a temporary directory, as the command does; then
times each stage on its own (reading and validating, the rule engine over every entity,
scoring), in microseconds per event.

    .venv/bin/python -m benchmarks.replay [--customers 2000] [--days 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console

from benchmarks.figures import figures_table
from riskstream.agents.cep.runner import LocalRunner
from riskstream.offline.jsonl import in_event_time_order, read_events
from riskstream.offline.replay import Replayer
from riskstream.offline.rules import rule_center
from riskstream.offline.run import ReplayOutputs, replay_file
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.simulation.output import write_events


def stage_costs(events: Path) -> dict[str, float]:
    """Microseconds per event of each stage, each timed on its own."""
    started = time.perf_counter()
    parsed, _ = read_events(events)
    parse = time.perf_counter() - started
    ordered = in_event_time_order(parsed)
    center = rule_center(None)
    runner = LocalRunner(center.ruleset)
    started = time.perf_counter()
    for item in ordered:
        runner.process(item.event)
    engine = time.perf_counter() - started
    replayer = Replayer(center)
    stats = replayer.run(ordered)
    count = len(ordered)
    return {
        "parse": parse / count * 1e6,
        "engine": engine / count * 1e6,
        "scoring": max(0.0, stats.seconds - engine) / count * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    quiet = Console(quiet=True)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        events = base / "events.jsonl"
        with console.status("simulating the data set"):
            config = SimulationConfig(seed=7, customers=args.customers, days=args.days)
            write_events(generate(config), events, quiet)
        rates = []
        for run in range(args.repeat):
            outputs = ReplayOutputs(base / f"s{run}.jsonl", base / f"d{run}.jsonl")
            started = time.perf_counter()
            stats, _ = replay_file(events, outputs, console=quiet)
            rates.append(stats.events / (time.perf_counter() - started))
            console.print(f"run {run + 1}: {rates[-1]:,.0f} events/s")
        with console.status("timing each stage"):
            costs = stage_costs(events)
        whole = 1e6 / statistics.median(rates)
        title = f"replay: {stats.events:,} simulated events, default pack and scoring rules"
        rows = [
            ("events/s, whole command (median)", f"{statistics.median(rates):,.0f}"),
            ("events/s, engine and scorer only", f"{stats.events_per_second:,.0f}"),
            ("transactions decided", f"{stats.transactions:,}"),
            ("signals", f"{sum(stats.signals_by_rule.values()):,}"),
            ("us/event, whole command", f"{whole:,.1f}"),
            ("us/event, reading and validating", f"{costs['parse']:,.1f}"),
            ("us/event, rule engine (every entity)", f"{costs['engine']:,.1f}"),
            ("us/event, scoring the transactions", f"{costs['scoring']:,.1f}"),
        ]
        console.print(figures_table(title, rows))


if __name__ == "__main__":
    main()
