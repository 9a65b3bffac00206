"""What every detector shares: its configuration and how it makes a signal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from riskstream.streams.events import from_epoch_ms
from riskstream.streams.outputs import AggregateValue, Signal, deterministic_id
from riskstream.streams.settings import Settings
from riskstream.tables.account_state import AccountState, FiredSignal, MarkerEntry, TxnEntry

MAX_EVIDENCE = 50


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Thresholds of the built-in detectors (times in milliseconds)."""

    velocity_window_ms: int = 600_000
    velocity_max_count: int = 10
    velocity_max_amount: Decimal = Decimal("5000")
    ato_window_ms: int = 1_800_000
    ato_withdrawal_threshold: Decimal = Decimal("500")
    signal_ttl_ms: int = 86_400_000
    allowed_lateness_ms: int = 600_000
    max_entries: int = 5_000

    @property
    def horizon_ms(self) -> int:
        """How far behind the watermark state must reach for every window and lateness."""
        return max(self.velocity_window_ms, self.ato_window_ms) + self.allowed_lateness_ms


class Detector(Protocol):
    rule_id: str

    def on_transaction(self, state: AccountState, entry: TxnEntry, account: str) -> list[Signal]:
        """Signals that the (already inserted) transaction completes."""
        ...

    def on_marker(self, state: AccountState, marker: MarkerEntry, account: str) -> list[Signal]:
        """Signals that the (already inserted) account event completes."""
        ...


def make_signal(
    *,
    rule_id: str,
    rule_version: int,
    pattern: str,
    account: str,
    severity: int,
    evidence: Sequence[str],
    aggregates: dict[str, AggregateValue | Decimal],
    trigger: str,
    detected_ms: int,
    ttl_ms: int,
    identity: Sequence[str | int],
) -> Signal:
    """A signal whose id is a hash of the rule, the entity and ``identity``."""
    return Signal(
        signal_id=deterministic_id(rule_id, rule_version, "account", account, *identity),
        pattern=pattern,
        rule_id=rule_id,
        rule_version=rule_version,
        entity_type="account",
        entity_id=account,
        severity=max(0, min(100, severity)),
        evidence=tuple(evidence[:MAX_EVIDENCE]),
        aggregates={
            name: str(value) if isinstance(value, Decimal) else value
            for name, value in aggregates.items()
        },
        trigger_event_id=trigger,
        detected_at=from_epoch_ms(detected_ms),
        expires_at=from_epoch_ms(detected_ms + ttl_ms),
    )


def remember(
    state: AccountState, signal: Signal, emitted_by: str, start_ms: int, end_ms: int
) -> None:
    """Record a published signal so that it is neither repeated nor lost on redelivery."""
    state.fired.append(
        FiredSignal(
            signal_id=signal.signal_id,
            pattern=signal.pattern,
            emitted_by=emitted_by,
            start_ms=start_ms,
            end_ms=end_ms,
            payload=signal.model_dump(mode="json"),
        )
    )


def config_from_settings(settings: Settings) -> DetectorConfig:
    return DetectorConfig(
        velocity_window_ms=int(settings.velocity_window_s * 1000),
        velocity_max_count=settings.velocity_max_count,
        velocity_max_amount=settings.velocity_max_amount,
        ato_window_ms=int(settings.ato_window_s * 1000),
        ato_withdrawal_threshold=settings.ato_withdrawal_threshold,
        signal_ttl_ms=int(settings.signal_ttl_s * 1000),
        allowed_lateness_ms=int(settings.allowed_lateness_s * 1000),
    )
