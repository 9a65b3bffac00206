"""The functional core: one event and one account's state in, signals out.

No Kafka here: the Faust agent is a thin shell around :meth:`DetectionEngine.process`,
and offline replay drives the very same method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from riskstream.agents.detectors.base import Detector, DetectorConfig
from riskstream.agents.detectors.takeover import TakeoverDetector
from riskstream.agents.detectors.velocity import VelocityDetector
from riskstream.streams.events import AccountEvent, Event, Transaction
from riskstream.streams.outputs import Signal
from riskstream.tables.account_state import AccountState, MarkerEntry, TxnEntry

Status = Literal["applied", "duplicate", "late"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What processing one event did. ``signals`` are to be published (again)."""

    status: Status
    signals: list[Signal] = field(default_factory=list)

    @property
    def changed_state(self) -> bool:
        return self.status != "duplicate"


class DetectionEngine:
    """Applies an event to its account's state exactly once and runs every detector."""

    def __init__(self, config: DetectorConfig, detectors: list[Detector] | None = None) -> None:
        self.config = config
        self.detectors: list[Detector] = (
            detectors
            if detectors is not None
            else [VelocityDetector(config), TakeoverDetector(config)]
        )

    def process(self, state: AccountState, event: Event) -> Outcome:
        """Mutate ``state`` with ``event`` unless it was seen already or is too late.

        A duplicate changes nothing; the signals it triggered the first time are handed
        back, so that a crash between the state write and the signal send loses nothing.
        """
        if event.event_id in state.seen:
            return Outcome("duplicate", self._signals_triggered_by(state, event.event_id))
        ts_ms = event.occurred_ms
        # Only what lies beyond the retained horizon is refused. Transactions and account
        # events come from different topics, which a catching-up consumer reads at
        # different event-time speeds, so a stricter cut would drop good events.
        if state.watermark_ms >= 0 and ts_ms < state.watermark_ms - self.config.horizon_ms:
            state.late_events += 1
            return Outcome("late")
        state.seen[event.event_id] = ts_ms
        state.watermark_ms = max(state.watermark_ms, ts_ms)
        signals: list[Signal] = []
        account = event.account_id
        if isinstance(event, Transaction):
            entry = TxnEntry(ts_ms, event.event_id, event.amount, event.type, event.status)
            state.insert_txn(entry)
            for detector in self.detectors:
                signals.extend(detector.on_transaction(state, entry, account))
        elif isinstance(event, AccountEvent):
            marker = MarkerEntry(ts_ms, event.event_id, event.type)
            state.insert_marker(marker)
            for detector in self.detectors:
                signals.extend(detector.on_marker(state, marker, account))
        state.evict(self.config.horizon_ms, self.config.max_entries)
        return Outcome("applied", signals)

    @staticmethod
    def _signals_triggered_by(state: AccountState, event_id: str) -> list[Signal]:
        return [
            Signal.model_validate(record.payload)
            for record in state.fired
            if record.emitted_by == event_id
        ]
