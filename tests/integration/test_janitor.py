"""Idle account records are deleted by the janitor."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from riskstream.simulation.event import SimEvent
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import send
from tests.unit.factories import txn

pytestmark = pytest.mark.integration


def _event(event_id: str, account: str, days_ago: float) -> SimEvent:
    payload = txn(event_id, 0, "25", account=account).model_dump()
    payload["occurred_at"] = datetime.now(UTC) - timedelta(days=days_ago)
    return SimEvent("transaction", payload)


def test_an_account_silent_past_the_retention_is_forgotten(
    sandbox: Sandbox, worker: Worker
) -> None:
    sandbox.env["RISKSTREAM_ENTITY_RETENTION_DAYS"] = "1"
    sandbox.env["RISKSTREAM_CLEANUP_INTERVAL_S"] = "1"
    settings = sandbox.settings
    idle = [_event(f"idle-{n}", "acct-idle", days_ago=3) for n in range(3)]
    active = [_event(f"active-{n}", "acct-active", days_ago=0.01) for n in range(3)]
    worker.start()
    send(settings, idle + active)
    worker.wait_for("applied", 6)
    time.sleep(3)  # a sweep or two

    # The same events again: an account's record remembers its event ids, so they are
    # duplicates while the record lives and new once it was deleted.
    send(settings, idle + active)
    stats = worker.wait_for("received", 12)
    deadline = time.monotonic() + 30
    while stats["applied"] + stats["duplicates"] < 12 and time.monotonic() < deadline:
        time.sleep(0.5)
        stats = worker.stats()
    # At least once: its second life is as old, and a later sweep may take it again.
    assert stats["accounts_expired"] >= 1, stats
    assert stats["duplicates"] == 3, stats  # the active account's
    assert stats["applied"] == 9, stats  # 6 the first time, the idle account's 3 again
