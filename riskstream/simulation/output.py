"""Where a run goes: JSONL files (events, labels) or the input topics; a summary table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import Dataset, generate
from riskstream.streams.settings import Settings

CHUNK = 5_000


@contextmanager
def progress_bar(console: Console) -> Iterator[Progress]:
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=console, transient=True,
    ) as progress:  # fmt: skip
        yield progress


def generate_with_progress(config: SimulationConfig, console: Console) -> tuple[Dataset, float]:
    """The run's data set, and the seconds it took."""
    started = time.perf_counter()
    with progress_bar(console) as progress:
        task = progress.add_task("simulating customers", total=config.customers)
        dataset = generate(config, lambda n: progress.advance(task, n))
    return dataset, time.perf_counter() - started


def write_events(dataset: Dataset, path: Path, console: Console) -> None:
    """One event per line in event-time order, as the codec writes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    events = dataset.events
    with progress_bar(console) as progress, path.open("wb") as sink:
        task = progress.add_task(f"writing {path}", total=len(events))
        for start in range(0, len(events), CHUNK):
            chunk = events[start : start + CHUNK]
            sink.write(b"".join(event.encode() + b"\n" for event in chunk))
            progress.advance(task, len(chunk))


def write_labels(dataset: Dataset, path: Path) -> None:
    """The ground truth, ``{"event_id", "scenario", "instance", "fraud", "role"}`` per line
    (see :mod:`riskstream.offline.labels`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(label) + b"\n" for label in dataset.labels))


def produce(settings: Settings, dataset: Dataset, rate: float) -> int:
    """Produce the events to the input topics, keyed by account, in event-time order, at
    ``rate`` events per second (0: as fast as possible); kafka_io shows the progress."""
    from riskstream.streams.kafka_io import produce_events  # noqa: PLC0415 - kafka-python

    return produce_events(
        settings, dataset.events, rate=rate if rate > 0 else None, total=len(dataset.events)
    )


def summary(dataset: Dataset, seconds: float) -> Table:
    config = dataset.config
    table = Table(title=f"simulate: seed {config.seed}, run {config.run_id}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("period", f"{config.start.isoformat()} + {config.days:g} d")
    table.add_row("customers / merchants", f"{dataset.customers:,} / {dataset.merchants:,}")
    table.add_row("events", f"{len(dataset.events):,}")
    for name, count in sorted(dataset.counts.items()):
        table.add_row(f"  {name}", f"{count:,}")
    fraud = {label["instance"] for label in dataset.labels if label["fraud"]}
    table.add_row("injected instances (fraud + look-alike)", f"{dataset.instances:,}")
    table.add_row("  fraud instances", f"{len(fraud):,}")
    table.add_row("labelled events", f"{len(dataset.labels):,}")
    attack = sum(label["role"] == "attack" for label in dataset.labels)
    table.add_row("  attack (the fraud itself)", f"{attack:,}")
    table.add_row("  context (history, look-alikes)", f"{len(dataset.labels) - attack:,}")
    late = "kept" if config.keep_late_feedback else "dropped"
    table.add_row(f"feedback due after the end ({late})", f"{dataset.dropped_feedback:,}")
    rate = len(dataset.events) / seconds if seconds > 0 else 0.0
    table.add_row("generated in", f"{seconds:.1f} s ({rate:,.0f} events/s)")
    return table
