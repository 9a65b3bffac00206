"""Whose and which day each transaction of an events file is, for precision@k.

The core's decision lines name only the transaction; precision@k ranks accounts per
day, so the account and the UTC day are read from the events file beside the replay.
Lines that are not a transaction with an account and a time are passed over here: the
replay itself refuses the invalid ones, with the reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from riskstream.offline.jsonl import read_lines


def read_subjects(path: Path) -> dict[str, tuple[str, date]]:
    """Transaction id -> (account id, UTC day of ``occurred_at``)."""
    subjects: dict[str, tuple[str, date]] = {}
    for _, raw in read_lines(path):
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(record, dict) or "amount" not in record:
            continue
        event_id, account, moment = (
            record.get("event_id"), record.get("account_id"), record.get("occurred_at")
        )  # fmt: skip
        if not (isinstance(event_id, str) and isinstance(account, str)):
            continue
        day = _utc_day(moment)
        if day is not None:
            subjects[event_id] = (account, day)
    return subjects


def _utc_day(moment: object) -> date | None:
    if isinstance(moment, int | float) and not isinstance(moment, bool):
        # As the contract reads a number: seconds, or milliseconds when that large.
        seconds = moment / 1000.0 if abs(moment) > 2e10 else float(moment)
        try:
            return datetime.fromtimestamp(seconds, UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(moment, str):
        return None
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC).date()
