"""Long-horizon profiles on the real broker: built by the worker leader's crontab and by
``riskstream profiles build``, published, and picked up by a running worker."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from riskstream.streams.codec import dumps
from tests.integration.conftest import ROOT, Sandbox, Worker
from tests.integration.helpers import send_raw
from tests.integration.test_scoring import scored

pytestmark = pytest.mark.integration
ACCOUNT = "acct-baseline"


def payment(at: datetime, amount: str) -> tuple[bytes, bytes]:
    body = {
        "event_id": f"hist-{uuid.uuid4().hex[:12]}", "type": "payment",
        "occurred_at": at.isoformat().replace("+00:00", "Z"), "account_id": ACCOUNT,
        "amount": amount, "currency": "EUR", "counterparty_id": "merchant-usual",
    }  # fmt: skip
    return ACCOUNT.encode(), dumps(body)


def probe(worker: Worker, amount: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return scored(worker, {
        "event_id": f"probe-{uuid.uuid4().hex[:12]}", "type": "payment", "occurred_at": now,
        "account_id": ACCOUNT, "amount": amount, "currency": "EUR",
        "counterparty_id": "merchant-new",
    })  # fmt: skip


def codes(answer: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in answer["reasons"]]


def history(worker: Worker, amount_count: int, timeout_s: float) -> dict[str, Any]:
    """The account's long-horizon profile once it holds ``amount_count`` amounts."""
    deadline = time.monotonic() + timeout_s
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = worker.call("GET", f"/profiles/account/{ACCOUNT}/", role="analyst")
        assert response.status_code == 200, response.text
        body = response.json()
        if body.get("history", {}).get("amount_count") == amount_count:
            return dict(body["history"])
        time.sleep(0.5)
    pytest.fail(f"no profile with {amount_count} amounts: {body}\n{worker.log_tail()}")


def test_a_rebuilt_profile_reaches_a_running_worker_and_its_scores(
    sandbox: Sandbox, worker: Worker
) -> None:
    # The leader builds every minute; nothing the test sends waits for a settle margin.
    sandbox.env |= {
        "RISKSTREAM_PROFILES_PERIOD_MINUTES": "1",
        "RISKSTREAM_PROFILES_SETTLE_S": "0",
    }
    worker.start()
    assert "ABOVE_OWN_BASELINE" not in codes(probe(worker, "600"))  # no history yet

    now = datetime.now(UTC)
    usual = [payment(now - timedelta(days=10) + timedelta(hours=8 * n), "100") for n in range(30)]
    send_raw(sandbox.settings, sandbox.settings.topics.transactions, usual)
    built = history(worker, 30, timeout_s=150)  # by the crontab
    assert built["amount_p95"] == pytest.approx(100, rel=0.01)
    assert built["usual_merchants"] == ["merchant-usual"] and built["txn_count_7d"] < 30
    answer = probe(worker, "600")
    assert "ABOVE_OWN_BASELINE" in codes(answer), answer

    # Larger payments, as late as can be (within the last day): the next build, taking
    # up the published state, feeds only them; the worker picks the new profile up.
    larger = [payment(now - timedelta(hours=n + 1), "1000") for n in range(30)]
    send_raw(sandbox.settings, sandbox.settings.topics.transactions, larger)
    done = subprocess.run(
        [sys.executable, "-m", "riskstream", "profiles", "build", "--from-topics", "--publish"],
        env=sandbox.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rebuilt = history(worker, 60, timeout_s=30)
    assert rebuilt["amount_p95"] == pytest.approx(1000, rel=0.01)
    assert "ABOVE_OWN_BASELINE" not in codes(probe(worker, "600"))
    stats = worker.call("GET", "/stats/", role="analyst").json()["profiles"]
    assert stats["entities"] >= 2 and stats["refused"] == {} and stats["failures"] == 0
