"""Account takeover: a credential or device change, then a large withdrawal soon after."""

from __future__ import annotations

from riskstream.agents.detectors.base import DetectorConfig, make_signal, remember
from riskstream.streams.outputs import Signal, deterministic_id
from riskstream.tables.account_state import AccountState, MarkerEntry, TxnEntry

SENSITIVE_CHANGES = frozenset({"password_change", "device_bound"})


class TakeoverDetector:
    """One signal per large withdrawal that follows a sensitive change within the window.

    Keying the signal by the withdrawal makes the set of signals independent of which
    topic's event arrives first (transactions and account events travel separately).
    """

    rule_id = "builtin.account_takeover"
    pattern = "account_takeover"
    version = 1

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config

    def _is_large_withdrawal(self, entry: TxnEntry) -> bool:
        return (
            entry.type == "withdrawal"
            and entry.status != "failed"
            and entry.amount > self.config.ato_withdrawal_threshold
        )

    def on_marker(self, state: AccountState, marker: MarkerEntry, account: str) -> list[Signal]:
        if marker.type not in SENSITIVE_CHANGES:
            return []
        window_end = marker.ts_ms + self.config.ato_window_ms
        return [
            signal
            for entry in state.txns_between(marker.ts_ms, window_end)
            if self._is_large_withdrawal(entry)
            for signal in self._fire(state, account, marker, entry, emitted_by=marker.event_id)
        ]

    def on_transaction(self, state: AccountState, entry: TxnEntry, account: str) -> list[Signal]:
        if not self._is_large_withdrawal(entry):
            return []
        for marker in reversed(state.markers):
            if marker.ts_ms > entry.ts_ms or marker.type not in SENSITIVE_CHANGES:
                continue
            if entry.ts_ms - marker.ts_ms > self.config.ato_window_ms:
                break
            return self._fire(state, account, marker, entry, emitted_by=entry.event_id)
        return []

    def _fire(
        self,
        state: AccountState,
        account: str,
        marker: MarkerEntry,
        withdrawal: TxnEntry,
        emitted_by: str,
    ) -> list[Signal]:
        identity = (withdrawal.event_id,)
        signal_id = deterministic_id(self.rule_id, self.version, "account", account, *identity)
        if any(record.signal_id == signal_id for record in state.fired):
            return []
        signal = make_signal(
            rule_id=self.rule_id,
            rule_version=self.version,
            pattern=self.pattern,
            account=account,
            severity=85,
            evidence=[marker.event_id, withdrawal.event_id],
            aggregates={
                "change": marker.type,
                "withdrawal_amount": withdrawal.amount,
                "seconds_after_change": (withdrawal.ts_ms - marker.ts_ms) / 1000,
                "threshold": self.config.ato_withdrawal_threshold,
            },
            trigger=withdrawal.event_id,
            detected_ms=withdrawal.ts_ms,
            ttl_ms=self.config.signal_ttl_ms,
            identity=identity,
        )
        remember(state, signal, emitted_by, marker.ts_ms, withdrawal.ts_ms)
        return [signal]
