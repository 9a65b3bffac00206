from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskstream.streams.events import to_epoch_ms
from riskstream.tables.spend import record_spend, spent_today

NOW = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)


def test_spent_today_counts_the_day_of_now_with_or_without_its_milliseconds() -> None:
    table: dict[bytes, bytes] = {}
    record_spend(table, "acc", to_epoch_ms(NOW - timedelta(days=1)), Decimal("5"))
    record_spend(table, "acc", to_epoch_ms(NOW), Decimal("10.50"))
    record_spend(table, "acc", to_epoch_ms(NOW), Decimal("2"))
    for now, expected in [
        (NOW, Decimal("12.50")),
        (NOW - timedelta(days=1), Decimal("5")),
        (NOW + timedelta(minutes=1), Decimal(0)),
    ]:
        assert spent_today(table, "acc", now) == expected
        assert str(spent_today(table, "acc", now, to_epoch_ms(now))) == str(expected)
    assert spent_today(table, "nobody", NOW, to_epoch_ms(NOW)) == Decimal(0)
