"""``riskstream simulate``: labelled wallet traffic to JSONL files or to Kafka."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import faust
from faust.cli import AppCommand, option

from riskstream.cli.broker import require_broker
from riskstream.cli.command import Command
from riskstream.cli.offline import wide_console
from riskstream.simulation.config import DEFAULT_START, SimulationConfig
from riskstream.streams.settings import get_settings


def parse_start(text: str) -> datetime:
    """An ISO 8601 instant with a zone (``2026-11-02T00:00:00Z``, ``...+08:00``)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"--start {text!r} needs a time zone, e.g. {DEFAULT_START.isoformat()}")
    return moment


def register_simulate(app: faust.App) -> None:
    @app.command(
        option("--out", type=str, default=None, help="Write the events here (JSONL)."),
        option("--labels", type=str, default=None, help="Write the ground truth here (JSONL)."),
        option("--seed", type=int, default=7, help="Same seed and options: same bytes."),
        option("--days", type=float, default=1.0, help="Length of the period."),
        option("--customers", type=int, default=2000, help="Size of the population."),
        option("--start", type=str, default=DEFAULT_START.isoformat(), help="ISO, with zone."),
        option("--fraud-per-pattern", type=int, default=3,
               help="Injected instances of each pack scenario, and as many look-alikes."),
        option("--keep-late-feedback", is_flag=True, default=False,
               help="Keep feedback due after the end (default: dropped)."),
        option("--kafka", is_flag=True, default=False,
               help="Produce the events to the input topics at KAFKA_BOOTSTRAP."),
        option("--rate", type=float, default=0.0,
               help="With --kafka: events per second (0: as fast as possible)."),
        base=Command,
    )  # fmt: skip
    async def simulate(
        self: AppCommand,
        out: str | None,
        labels: str | None,
        seed: int,
        days: float,
        customers: int,
        start: str,
        fraud_per_pattern: int,
        keep_late_feedback: bool,
        kafka: bool,
        rate: float,
    ) -> None:
        """Simulate wallet traffic with injected, labelled fraud (every pattern of the
        default pack) and delayed feedback; events to --out or --kafka, the ground truth
        to --labels, never onto the events."""
        from riskstream.simulation import output  # noqa: PLC0415

        if out is None and not kafka:
            raise self.UsageError("give --out EVENTS.jsonl, or --kafka")
        if rate < 0:
            raise self.UsageError("--rate must not be negative")
        try:
            config = SimulationConfig(
                seed=seed, customers=customers, days=days, start=parse_start(start),
                fraud_per_pattern=fraud_per_pattern, keep_late_feedback=keep_late_feedback,
            )  # fmt: skip
        except ValueError as error:
            raise self.UsageError(str(error)) from None
        if kafka:  # before the run: generating one can take a while
            require_broker(get_settings())
        console = wide_console()
        dataset, seconds = output.generate_with_progress(config, console)
        if out is not None:
            output.write_events(dataset, Path(out), console)
            console.print(f"wrote {out}", markup=False)
        if labels is not None:
            output.write_labels(dataset, Path(labels))
            console.print(f"wrote {labels}", markup=False)
        console.print(output.summary(dataset, seconds))
        if kafka:
            settings = get_settings()
            console.print(f"producing {len(dataset.events):,} events to {settings.kafka_bootstrap}")
            sent = output.produce(settings, dataset, rate)
            console.print(f"produced {sent:,} events")
