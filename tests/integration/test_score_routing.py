"""Two workers: a score request is answered by the worker that owns the account."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from riskstream.streams.codec import dumps
from riskstream.streams.settings import Settings
from riskstream.web.peer import ROUTED_HEADER
from tests.integration.conftest import Sandbox, Worker, second_member
from tests.integration.helpers import send_raw

pytestmark = pytest.mark.integration
ACCOUNTS = [f"acct-route-{n}" for n in range(8)]


def payment(account: str, amount: str, event_id: str | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id or f"route-{uuid.uuid4().hex[:12]}",
        "type": "payment",
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "account_id": account,
        "amount": amount,
        "currency": "CNY",
    }


def score(worker: Worker, body: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        response = worker.call("POST", "/score/", body, role="scorer")
        assert response.status_code == 200, response.text
        answer = dict(response.json())
        if answer["score"] != -1 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def without_latency(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "latency_ms"}


def spend(settings: Settings, workers: list[Worker], amount: str, already: int = 0) -> None:
    send_raw(
        settings,
        settings.topics.transactions,
        [(account.encode(), dumps(payment(account, amount))) for account in ACCOUNTS],
    )
    deadline = time.monotonic() + 60
    while sum(member.stats()["applied"] for member in workers) < already + len(ACCOUNTS):
        assert time.monotonic() < deadline, "the spend was not applied within 60 s"
        time.sleep(0.3)


def test_daily_limits_and_remembered_answers_hold_on_either_worker(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    worker.start()
    other = Worker(second_member(sandbox, tmp_path), tmp_path / "worker-b.log")
    try:
        other.start()
        worker.wait_ready(90)
        for account in ACCOUNTS:
            added = worker.call("POST", "/penalties/", {
                "entity_type": "account", "entity_id": account, "kind": "limit",
                "reason": "new account", "ttl": "1h", "daily_limit": "100",
            }, role="operator", subject="carol")  # fmt: skip
            assert added.status_code == 201, added.text
        # 90 spent today by each account, seen only by the worker owning its partition.
        spend(settings, [worker, other], "90")
        first: dict[str, dict[str, Any]] = {}
        asked = {account: payment(account, "7", event_id=f"same-{account}") for account in ACCOUNTS}
        for account in ACCOUNTS:
            for member in (worker, other):
                over = score(member, payment(account, "20"))
                assert over["decision"] == "reject", (member.url, over)
                assert over["reasons"][0]["code"] == "LIMIT_DAILY"
                assert score(member, payment(account, "5"))["decision"] == "accept"
            first[account] = score(worker, asked[account])
            assert first[account]["decision"] == "accept"
        # Now 100 spent: 7 more would be over the limit, but an event id already decided
        # keeps its answer, asked of either worker, because the owner remembers it.
        spend(settings, [worker, other], "10", already=len(ACCOUNTS))
        for account in ACCOUNTS:
            for member in (other, worker):
                again = score(member, asked[account])
                assert without_latency(again) == without_latency(first[account])
                # The same event id for another amount is no retry, on either worker.
                other_body = {**asked[account], "amount": "1"}
                conflict = member.call("POST", "/score/", other_body, role="scorer")
                assert conflict.status_code == 409, conflict.text
                # Nor can a client pass for a worker to be answered without the owner.
                forged = member.call(
                    "POST", "/score/", payment(account, "7"), role="scorer",
                    headers={ROUTED_HEADER: member.url},
                )  # fmt: skip
                assert forged.status_code == 403, forged.text
                fresh = score(member, payment(account, "7"))
                assert fresh["decision"] == "reject", (member.url, fresh)
        forwarded = [
            member.call("GET", "/stats/").json()["scorer"]["forwarded"]
            for member in (worker, other)
        ]
        assert all(count > 0 for count in forwarded), forwarded
    finally:
        other.ensure_stopped()
