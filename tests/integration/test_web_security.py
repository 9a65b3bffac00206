"""The attacks on a worker's web server, replayed against a real worker and broker."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from riskstream.streams.codec import dumps, loads
from riskstream.web.peer import ROUTED_HEADER
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import read_all

pytestmark = pytest.mark.integration

ALLOW = {"entity_type": "account", "entity_id": "acct-control", "kind": "allow",
         "reason": "trust me", "ttl": "1h"}  # fmt: skip


def withdrawal(event_id: str, amount: str) -> dict[str, Any]:
    return {
        "event_id": event_id, "type": "withdrawal", "account_id": "acct-control",
        "amount": amount, "currency": "CNY",
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }  # fmt: skip


def test_only_the_right_callers_change_anything(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    worker.start()
    url = worker.url

    # No token, a forged one, or a cross-site text/plain POST: nothing is allow-listed.
    anonymous = httpx.post(f"{url}/penalties/", content=dumps(ALLOW), timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    forged = httpx.post(f"{url}/penalties/", content=dumps(ALLOW), timeout=10,
                        headers={"Authorization": "Bearer e30.e30.c2ln"})  # fmt: skip
    assert forged.status_code == 401
    text_plain = worker.call("POST", "/penalties/", dumps(ALLOW), role="operator",
                             headers={"Content-Type": "text/plain"})  # fmt: skip
    assert text_plain.status_code == 415
    assert worker.call("POST", "/penalties/", ALLOW, role="analyst").status_code == 403
    assert worker.call("GET", "/penalties/", role="analyst").json()["penalties"] == []

    # Reading needs a role too; Faust's raw table views are not served at all.
    assert httpx.get(f"{url}/profiles/account/acct-control/", timeout=5).status_code == 401
    assert worker.call("GET", "/profiles/account/acct-control/", role="scorer").status_code == 403
    assert worker.call("GET", "/table/").status_code == 404
    assert httpx.get(f"{url}/health/", timeout=5).status_code == 200

    # An operator's penalty is audited under the operator's name, whatever is claimed.
    claimed = worker.call("POST", "/penalties/", {**ALLOW, "operator": "mallory"},
                          role="operator", subject="dana")  # fmt: skip
    assert claimed.status_code == 422
    added = worker.call("POST", "/penalties/", ALLOW, role="operator", subject="dana")
    assert added.status_code == 201, added.text
    penalty_id = added.json()["penalty_id"]
    path = f"/penalties/{penalty_id}/"
    named = {"reason": "done", "operator": "mallory"}
    removed = worker.call("DELETE", path, role="operator", subject="erin", params=named)
    assert removed.status_code == 422
    reason = {"reason": "done"}
    removed = worker.call("DELETE", path, role="operator", subject="erin", params=reason)
    assert removed.status_code == 200
    audit = [loads(record.value) for record in read_all(settings, settings.topics.audit)]
    assert [(line["action"], line["actor"]) for line in audit] == [
        ("add", "dana"),
        ("remove", "erin"),
    ]

    # A guessable event id scored first with a harmless body does not decide the real one.
    deadline = time.monotonic() + 30
    while True:  # until the worker has loaded what it needs (-1 is not remembered)
        harmless = withdrawal(f"wd-{uuid.uuid4().hex[:8]}", "1")
        first = worker.call("POST", "/score/", harmless, role="scorer")
        assert first.status_code == 200, first.text
        if first.json()["score"] != -1:
            break
        assert time.monotonic() < deadline, first.text
        time.sleep(0.2)
    risky = worker.call("POST", "/score/", {**harmless, "amount": "50000"}, role="scorer")
    assert risky.status_code == 409, risky.text
    retry = worker.call("POST", "/score/", harmless, role="scorer")
    assert retry.status_code == 200
    assert retry.json()["decision"] == first.json()["decision"]

    # A client cannot pass for a worker that forwarded the request.
    routed = worker.call("POST", "/score/", withdrawal(f"wd-{uuid.uuid4().hex[:8]}", "1"),
                         role="scorer", headers={ROUTED_HEADER: url})  # fmt: skip
    assert routed.status_code == 403
