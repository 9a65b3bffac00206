"""Each account's outgoing total per UTC day, for daily limits.

Kept in the account's own rule-state record (``EntityState.spend``: day number ->
decimal string, the last two days), so the event and its amount are stored in one write:
a crash can never leave one without the other.
"""

from __future__ import annotations

from decimal import Decimal

from riskstream.tables.entity_state import EntityState

DAY_MS = 86_400_000


def spent_on(state: EntityState | None, now_ms: int) -> Decimal:
    """The account's outgoing total on ``now_ms``'s UTC day."""
    if state is None or not state.spend:
        return Decimal(0)
    return Decimal(state.spend.get(now_ms // DAY_MS, "0"))


def record_spend(state: EntityState, ts_ms: int, amount: Decimal) -> None:
    """Add an outgoing amount to the account's per-day totals (the last two days kept)."""
    day = ts_ms // DAY_MS
    days = state.spend
    days[day] = str(Decimal(days.get(day, "0")) + amount)
    for old in [known for known in days if known < day - 1]:
        del days[old]
