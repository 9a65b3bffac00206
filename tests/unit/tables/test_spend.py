from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskstream.streams.events import to_epoch_ms
from riskstream.tables.entity_state import EntityState
from riskstream.tables.spend import DAY_MS, record_spend, spent_on

NOW_MS = to_epoch_ms(datetime(2026, 11, 23, 23, 59, tzinfo=UTC))


def test_spent_on_counts_the_utc_day_of_now() -> None:
    state = EntityState()
    record_spend(state, NOW_MS - DAY_MS, Decimal("5"))
    record_spend(state, NOW_MS, Decimal("10.50"))
    record_spend(state, NOW_MS, Decimal("2"))
    assert spent_on(state, NOW_MS) == Decimal("12.50")
    assert spent_on(state, NOW_MS - DAY_MS) == Decimal("5")
    assert spent_on(state, NOW_MS + to_ms(timedelta(minutes=1))) == Decimal(0)  # next day
    assert spent_on(None, NOW_MS) == Decimal(0)


def test_only_the_last_two_days_are_kept_and_they_survive_the_wire() -> None:
    state = EntityState()
    for days_ago in (5, 2, 1, 0):
        record_spend(state, NOW_MS - days_ago * DAY_MS, Decimal("1.10"))
    assert sorted(state.spend) == [NOW_MS // DAY_MS - 1, NOW_MS // DAY_MS]
    again = EntityState.from_wire(state.to_wire())
    assert again.spend == state.spend
    assert str(spent_on(again, NOW_MS)) == "1.10"  # exact decimals, never floats


def test_records_without_totals_stay_as_they_were_on_the_wire() -> None:
    wire = EntityState().to_wire()
    assert "d" not in wire  # devices, IPs ... never carry the field
    assert EntityState.from_wire(wire).spend == {}


def to_ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)
