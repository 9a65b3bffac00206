"""Small builders of contract-v1 events for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from riskstream.streams.events import AccountEvent, Transaction

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def txn(
    event_id: str,
    seconds: float,
    amount: str | int = "10",
    *,
    account: str = "acc-1",
    type: str = "payment",
    status: str = "succeeded",
    **extra: Any,
) -> Transaction:
    return Transaction.model_validate(
        {
            "event_id": event_id,
            "type": type,
            "occurred_at": at(seconds),
            "account_id": account,
            "amount": Decimal(str(amount)),
            "currency": "CNY",
            "status": status,
            **extra,
        }
    )


def account_event(
    event_id: str, seconds: float, type: str = "password_change", *, account: str = "acc-1"
) -> AccountEvent:
    return AccountEvent.model_validate(
        {"event_id": event_id, "type": type, "occurred_at": at(seconds), "account_id": account}
    )
