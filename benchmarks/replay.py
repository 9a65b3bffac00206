"""How many events per second ``riskstream replay`` gets through on one core.

Generates a seeded, labelled data set with the simulator, then times the replay of it
(reading and validating the JSONL, the default pack, a decision for every transaction),
writing signals and decisions to a temporary directory as the command does.

    .venv/bin/python -m benchmarks.replay [--accounts 2000] [--days 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from riskstream.offline.run import ReplayOutputs, replay_file
from riskstream.tools.simulate import SimConfig, TrafficSimulator


def write_data_set(folder: Path, accounts: int, days: float) -> Path:
    config = SimConfig(
        seed=7, accounts=accounts, duration=timedelta(days=days),
        end=datetime(2026, 11, 1, tzinfo=UTC), mean_gap=timedelta(minutes=20),
    )  # fmt: skip
    path = folder / "events.jsonl"
    path.write_bytes(b"".join(e.encode() + b"\n" for e in TrafficSimulator(config).events()))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        with console.status("generating the data set"):
            events = write_data_set(base, args.accounts, args.days)
        rates = []
        for run in range(args.repeat):
            outputs = ReplayOutputs(base / f"s{run}.jsonl", base / f"d{run}.jsonl")
            started = time.perf_counter()
            stats, _ = replay_file(events, outputs, console=Console(quiet=True))
            rates.append(stats.events / (time.perf_counter() - started))
        table = Table(title=f"replay: {stats.events:,} events, default pack and scoring rules")
        table.add_column("measure")
        table.add_column("value", justify="right")
        table.add_row("events/s, whole command (median)", f"{statistics.median(rates):,.0f}")
        table.add_row("events/s, engine and scorer only", f"{stats.events_per_second:,.0f}")
        table.add_row("transactions decided", f"{stats.transactions:,}")
        table.add_row("signals", f"{sum(stats.signals_by_rule.values()):,}")
        console.print(table)


if __name__ == "__main__":
    main()
