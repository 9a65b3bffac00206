"""Each account's outgoing total per UTC day, for daily limits.

One record per account (key = account id, value = ``{day number: decimal string}``),
the last two days kept; works on a Faust table and on a plain dict alike.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from decimal import Decimal

from riskstream.streams.codec import dumps, loads
from riskstream.streams.events import to_epoch_ms

DAY_MS = 86_400_000
SpendTable = MutableMapping[bytes, bytes]


def spent_today(
    table: SpendTable, account_id: str, now: datetime, now_ms: int | None = None
) -> Decimal:
    """The account's outgoing total on ``now``'s UTC day, from :func:`record_spend`'s table.
    ``now_ms``, ``now`` in epoch milliseconds, spares converting it when the caller has it."""
    raw = table.get(account_id.encode())
    if raw is None:
        return Decimal(0)
    day = str((to_epoch_ms(now) if now_ms is None else now_ms) // DAY_MS)
    return Decimal(loads(raw).get(day, "0"))


def record_spend(table: SpendTable, account_id: str, ts_ms: int, amount: Decimal) -> None:
    """Add an outgoing amount to the account's per-day totals (the last two days kept)."""
    key = account_id.encode()
    raw = table.get(key)
    days: dict[str, str] = loads(raw) if raw else {}
    day = ts_ms // DAY_MS
    days[str(day)] = str(Decimal(days.get(str(day), "0")) + amount)
    table[key] = dumps({name: value for name, value in days.items() if int(name) >= day - 1})
