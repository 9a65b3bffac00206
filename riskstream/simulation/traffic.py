"""Seeded wallet traffic with labelled, injected fraud (contract v1 events): the small,
quick simulator of the demo, the benchmarks and the tests; ``riskstream simulate`` uses
the population model of the rest of this package."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from riskstream.simulation.event import SimEvent
from riskstream.streams.codec import dumps


@dataclass(frozen=True, slots=True)
class SimConfig:
    seed: int = 7
    accounts: int = 300
    duration: timedelta = timedelta(minutes=30)
    end: datetime = field(default_factory=lambda: datetime.now(UTC))
    mean_gap: timedelta = timedelta(minutes=6)
    velocity_attacks: int = 4
    takeovers: int = 4
    large_spends: int = 2


class TrafficSimulator:
    """Ordinary customers plus injected velocity bursts, takeovers and large spends."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.start = config.end - config.duration
        self._serial = 0

    def events(self) -> list[SimEvent]:
        """All events of the run, in event-time order."""
        events = list(self._ordinary())
        accounts = [f"acct-{n:05d}" for n in range(self.config.accounts)]
        victims = self.rng.sample(accounts, k=min(len(accounts), self._fraud_count()))
        for index, account in enumerate(victims):
            if index < self.config.velocity_attacks:
                events.extend(self._velocity_burst(account))
            elif index < self.config.velocity_attacks + self.config.takeovers:
                events.extend(self._takeover(account))
            else:
                events.extend(self._large_spend(account))
        events.sort(key=lambda event: (event.occurred_at, event.payload["event_id"]))
        return events

    def _fraud_count(self) -> int:
        config = self.config
        return config.velocity_attacks + config.takeovers + config.large_spends

    def _next_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}-{self.config.seed}-{self._serial:07d}"

    def _moment(self, low: float = 0.0, high: float = 0.8) -> datetime:
        span = self.config.duration.total_seconds()
        return self.start + timedelta(seconds=self.rng.uniform(low * span, high * span))

    def _txn(
        self, account: str, at: datetime, amount: Decimal, kind: str, **extra: Any
    ) -> dict[str, Any]:
        return {
            "event_id": self._next_id("tx"),
            "type": kind,
            "occurred_at": at,
            "account_id": account,
            "counterparty_id": extra.pop("counterparty_id", f"merch-{self.rng.randrange(80):03d}"),
            "amount": amount,
            "currency": "CNY",
            "channel": self.rng.choice(["app", "app", "web", "pos"]),
            "device_id": extra.pop("device_id", f"dev-{account}"),
            **extra,
        }

    def _amount(self, median: float) -> Decimal:
        return Decimal(str(round(self.rng.lognormvariate(0, 0.8) * median, 2))).max(Decimal("0.01"))

    def _ordinary(self) -> Iterator[SimEvent]:
        gap = self.config.mean_gap.total_seconds()
        for number in range(self.config.accounts):
            account = f"acct-{number:05d}"
            moment = self.start + timedelta(seconds=self.rng.expovariate(1 / gap))
            if self.rng.random() < 0.3:
                yield SimEvent("account_event", self._account_event(account, moment, "login"))
            while moment < self.config.end:
                kind = self.rng.choices(
                    ["payment", "transfer", "top_up", "red_packet", "withdrawal"],
                    weights=[70, 10, 8, 8, 4],
                )[0]
                amount = self._amount(40 if kind != "withdrawal" else 150)
                yield SimEvent("transaction", self._txn(account, moment, amount, kind))
                moment += timedelta(seconds=self.rng.expovariate(1 / gap))

    def _account_event(self, account: str, at: datetime, kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "event_id": self._next_id("ae"),
            "type": kind,
            "occurred_at": at,
            "account_id": account,
            "device_id": extra.pop("device_id", f"dev-{account}"),
            **extra,
        }

    def _velocity_burst(self, account: str) -> Iterator[SimEvent]:
        moment = self._moment()
        for _ in range(self.rng.randint(14, 20)):
            moment += timedelta(seconds=self.rng.uniform(2, 15))
            amount = Decimal(self.rng.choice(["1.00", "2.00", "5.00", "9.99"]))
            yield SimEvent("transaction", self._txn(account, moment, amount, "payment"), "velocity")

    def _takeover(self, account: str) -> Iterator[SimEvent]:
        moment = self._moment()
        device = f"dev-new-{self.rng.randrange(10_000):04d}"
        for kind in ("login", "device_bound", "password_change"):
            moment += timedelta(seconds=self.rng.uniform(5, 60))
            payload = self._account_event(account, moment, kind, device_id=device)
            yield SimEvent("account_event", payload, "account_takeover")
        moment += timedelta(seconds=self.rng.uniform(60, 900))
        amount = Decimal(self.rng.randrange(800, 5000))
        payload = self._txn(account, moment, amount, "withdrawal", device_id=device)
        yield SimEvent("transaction", payload, "account_takeover")

    def _large_spend(self, account: str) -> Iterator[SimEvent]:
        moment = self._moment()
        for _ in range(3):
            moment += timedelta(seconds=self.rng.uniform(20, 90))
            amount = Decimal(self.rng.randrange(2000, 3000))
            payload = self._txn(account, moment, amount, "transfer", counterparty_id="acct-mule")
            yield SimEvent("transaction", payload, "velocity")


def poison_messages() -> list[tuple[str, bytes]]:
    """Malformed messages of every kind the validator must dead-letter: (label, bytes)."""
    good = {
        "event_id": "poison-base",
        "type": "payment",
        "occurred_at": "2026-11-02T09:00:00Z",
        "account_id": "acct-poison",
        "amount": "10",
        "currency": "CNY",
    }
    return [
        ("not_json", b"{this is not json"),
        ("missing_amount", dumps({k: v for k, v in good.items() if k != "amount"})),
        ("negative_amount", dumps({**good, "event_id": "poison-neg", "amount": "-3"})),
        (
            "naive_timestamp",
            dumps({**good, "event_id": "poison-tz", "occurred_at": "2026-11-02T09:00:00"}),
        ),
        ("wrong_type", dumps({**good, "event_id": "poison-type", "amount": {"value": 3}})),
        (
            "oversized",
            dumps({**good, "event_id": "poison-big", "attributes": {"blob": "x" * 70_000}}),
        ),
    ]
