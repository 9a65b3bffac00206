"""The options of one simulation run; the same options always give the same data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from riskstream.streams.events import to_epoch_ms

# A fixed default, not the clock: a run is reproducible from its options alone.
DEFAULT_START = datetime(2026, 11, 2, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    seed: int = 7
    customers: int = 2000
    days: float = 1.0
    start: datetime = DEFAULT_START
    fraud_per_pattern: int = 3  # instances of each scenario, and as many look-alikes
    keep_late_feedback: bool = False  # feedback due after the end: dropped unless True

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must carry a time zone")
        # One instant, one output: 08:00+08:00 and 00:00Z make the same bytes.
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        if self.customers < 20:
            raise ValueError("customers must be at least 20")
        if not 0 < self.days <= 400:
            raise ValueError("days must be more than 0 and at most 400")
        if self.fraud_per_pattern < 0:
            raise ValueError("fraud_per_pattern must not be negative")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def start_ms(self) -> int:
        return to_epoch_ms(self.start)

    @property
    def end_ms(self) -> int:
        return to_epoch_ms(self.end)

    @property
    def run_id(self) -> str:
        """Six hex digits naming the options: part of every event id, so that two
        different runs produced to one broker never share an event id (the worker would
        drop the second as duplicates).

        The last digit is always a letter (a-f): an id like ``tx-157537-00026451`` is a
        Luhn-valid run of 14 digits in two groups one time in ten, which ingest masks as
        a card number (``157537****6451``), and the backtest then cannot tell which event
        an alert cites."""
        text = (
            f"{self.seed}|{self.customers}|{self.days}|{self.start_ms}|"
            f"{self.fraud_per_pattern}|{self.keep_late_feedback}"
        )
        digest = hashlib.sha256(text.encode()).hexdigest()
        return digest[:5] + "abcdef"[int(digest[5], 16) % 6]


def derived_seed(seed: int, *parts: object) -> int:
    """A seed for one part of a run (a customer, an injected story), independent of the
    order in which the parts are generated."""
    text = "/".join([str(seed), *(str(part) for part in parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
