"""Velocity: more than N outgoing transactions, or a sum over M, within a sliding window."""

from __future__ import annotations

from decimal import Decimal

from riskstream.agents.detectors.base import DetectorConfig, make_signal, remember
from riskstream.streams.outputs import Signal
from riskstream.tables.account_state import AccountState, MarkerEntry, TxnEntry

# Money leaving the account; top-ups and refunds bring money in.
OUTGOING = frozenset({"payment", "transfer", "red_packet", "withdrawal"})


class VelocityDetector:
    """Counts every attempt (failed ones too: bursts of failures are card testing);
    sums only what did not fail."""

    rule_id = "builtin.velocity.account"
    pattern = "velocity"
    version = 1

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config

    def on_marker(self, state: AccountState, marker: MarkerEntry, account: str) -> list[Signal]:
        return []

    def on_transaction(self, state: AccountState, entry: TxnEntry, account: str) -> list[Signal]:
        if entry.type not in OUTGOING:
            return []
        width = self.config.velocity_window_ms
        nearby = [
            item
            for item in state.txns_between(entry.ts_ms - width + 1, entry.ts_ms + width - 1)
            if item.type in OUTGOING
        ]
        fired = state.fired_for(self.pattern)
        end = 0
        count_limit, amount_limit = self.config.velocity_max_count, self.config.velocity_max_amount
        total = Decimal(0)
        # Windows [anchor, anchor + width) that contain the new entry, earliest first;
        # ``end`` and ``total`` slide along so the scan stays linear.
        for start, anchor in enumerate(nearby):
            if anchor.ts_ms > entry.ts_ms:
                break
            while end < len(nearby) and nearby[end].ts_ms < anchor.ts_ms + width:
                if nearby[end].status != "failed":
                    total += nearby[end].amount
                end += 1
            window_end = anchor.ts_ms + width
            if window_end > entry.ts_ms:
                count = end - start
                if (count > count_limit or total > amount_limit) and not any(
                    record.start_ms < window_end and anchor.ts_ms < record.end_ms
                    for record in fired
                ):
                    window = nearby[start:end]
                    return [
                        self._signal(
                            state=state,
                            account=account,
                            trigger=entry,
                            window=window,
                            total=total,
                            window_end=window_end,
                        )
                    ]
            if anchor.status != "failed":
                total -= anchor.amount
        return []

    def _signal(
        self,
        *,
        state: AccountState,
        account: str,
        trigger: TxnEntry,
        window: list[TxnEntry],
        total: Decimal,
        window_end: int,
    ) -> Signal:
        config = self.config
        ratio = max(
            len(window) / config.velocity_max_count, float(total / config.velocity_max_amount)
        )
        anchor = window[0]
        signal = make_signal(
            rule_id=self.rule_id,
            rule_version=self.version,
            pattern=self.pattern,
            account=account,
            severity=55 + int(20 * (ratio - 1)),
            evidence=[item.event_id for item in window],
            aggregates={
                "count": len(window),
                "sum": total,
                "window_start": anchor.ts_ms,
                "window_ms": config.velocity_window_ms,
                "max_count": config.velocity_max_count,
                "max_sum": config.velocity_max_amount,
            },
            trigger=trigger.event_id,
            detected_ms=max(trigger.ts_ms, window[-1].ts_ms),
            ttl_ms=config.signal_ttl_ms,
            identity=(anchor.ts_ms, anchor.event_id),
        )
        remember(state, signal, trigger.event_id, anchor.ts_ms, window_end)
        return signal
