"""The reported attacks through the rules topic, replayed on a real broker: each is
refused, and the worker goes on processing its stream and answering /score/."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from riskstream.streams.codec import dumps
from tests.integration.conftest import ROOT, Sandbox, Worker, second_member
from tests.integration.helpers import read_all, send_raw

pytestmark = pytest.mark.integration

START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
NESTED = (
    "agg.n > 2 || "
    + "".join(f"[0,1,2,3,4,5,6,7,8,9].exists({name}," for name in "abcdef")
    + "a+b+c+d+e+f>99"
    + ")" * 6
)


def rule(rule_id: str, version: int = 1, **changes: Any) -> bytes:
    return orjson.dumps({
        "id": rule_id, "version": version, "description": "A rule from the topic.",
        "events": ["payment"], "window": {"type": "sliding", "size": "10m"},
        "aggregates": {"n": {"fn": "count"}}, "condition": "agg.n > 2", "severity": 90,
        **changes,
    })  # fmt: skip


def payment(account: str, second: int) -> tuple[bytes, bytes]:
    moment = (START + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")
    body = {
        "event_id": f"{account}-{second}", "type": "payment", "occurred_at": moment,
        "account_id": account, "amount": "5.00", "currency": "CNY",
    }  # fmt: skip
    return account.encode(), dumps(body)


def cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskstream", *args],
        env=sandbox.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def rules_state(worker: Worker) -> dict[str, Any]:
    return dict(worker.call("GET", "/rules/", role="analyst", timeout=5).json())


def wait_until(check: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"condition not met within {timeout_s} s")


def score(worker: Worker, account: str) -> dict[str, Any]:
    body = {
        "event_id": f"probe-{uuid.uuid4().hex[:10]}", "type": "withdrawal",
        "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "account_id": account, "amount": "10.00", "currency": "CNY",
    }  # fmt: skip
    response = worker.call("POST", "/score/", body, role="scorer")
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture(autouse=True)
def topics(sandbox: Sandbox) -> None:
    created = cli(sandbox, "topics", "create")
    assert created.returncode == 0, created.stderr


def test_overflowing_ttls_and_costly_expressions_are_refused_and_the_worker_goes_on(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    # Already in the topic when the worker starts (as after a restart), then a tombstone.
    send_raw(settings, settings.topics.rules, [
        (b"attack.ttl", rule("attack.ttl", ttl="99999999999d")),
        (b"attack.ttl", None),
        (b"attack.ttl", rule("attack.ttl", ttl="3000000d")),
    ])  # fmt: skip
    worker.start()
    refused = rules_state(worker)["refused"]
    assert [r["rule_id"] for r in refused] == ["attack.ttl", "attack.ttl"]
    assert all("ttl" in r["error"] and "400d" in r["error"] for r in refused)

    costly = rule("attack.cost", condition=NESTED)
    send_raw(settings, settings.topics.rules, [(b"attack.cost", costly)])
    wait_until(lambda: len(rules_state(worker)["refused"]) == 3, 10.0)
    assert "too costly" in rules_state(worker)["refused"][2]["error"]

    listing = cli(sandbox, "rules", "list")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.count("refused at offset") == 3
    assert "Traceback" not in listing.stderr

    send_raw(settings, settings.topics.transactions, [payment("acct-h", n) for n in range(4)])
    worker.wait_for("applied", 4)
    assert score(worker, "acct-h")["score"] >= 0


def test_disabling_a_rule_lifts_the_freeze_its_signals_imposed(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    send_raw(settings, settings.topics.rules, [
        (b"test.freezer", rule("test.freezer", penalty="freeze", ttl="400d")),
    ])  # fmt: skip
    worker.start()
    send_raw(settings, settings.topics.transactions, [payment("acct-f", n) for n in range(3)])
    wait_until(lambda: score(worker, "acct-f")["decision"] == "reject", 20.0)
    assert [r["code"] for r in score(worker, "acct-f")["reasons"]] == ["ACCOUNT_FROZEN"]

    disabled = cli(sandbox, "rules", "disable", "test.freezer")
    assert disabled.returncode == 0, disabled.stderr
    wait_until(lambda: score(worker, "acct-f")["decision"] == "accept", 10.0)
    profile = worker.call("GET", "/profiles/account/acct-f/", role="analyst").json()
    assert profile["signals"] == []


def test_a_rule_that_overruns_its_time_budget_is_disabled_and_reported(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    # A budget of a microsecond: any evaluation by the interpreter overruns it.
    sandbox.env["RISKSTREAM_RULE_TIME_BUDGET_MS"] = "0.001"
    slow = "[1, 2, 3].exists(x, x * 100 < agg.n)"
    send_raw(settings, settings.topics.rules, [(b"test.slow", rule("test.slow", condition=slow))])
    worker.start()
    send_raw(settings, settings.topics.transactions, [payment("acct-s", n) for n in range(3)])
    worker.wait_for("applied", 3)

    def disabled() -> bool:
        rows = [row for row in rules_state(worker)["rules"] if row["id"] == "test.slow"]
        return bool(rows) and rows[0]["mode"] == "disabled"

    wait_until(disabled, 10.0)
    [refusal] = rules_state(worker)["refused"]
    assert refusal["rule_id"] == "test.slow"
    assert "disabled: one evaluation took" in refusal["error"]
    # Other rules go on: the stream is still applied.
    send_raw(settings, settings.topics.transactions, [payment("acct-s", 10)])
    worker.wait_for("applied", 4)
    # Every worker is told, after a restart too: the suspension is on its topic, after
    # its audit line (the worker as actor, the time measured as reason).
    [suspension] = read_all(settings, settings.topics.rule_suspensions)
    assert suspension.key == b"test.slow"
    assert orjson.loads(suspension.value)["version"] == 1
    lines = [orjson.loads(r.value) for r in read_all(settings, settings.topics.audit)]
    [line] = [line for line in lines if line["action"] == "rule-suspend"]
    assert line["actor"].startswith("worker:")
    assert "test.slow v1 disabled: one evaluation took" in line["reason"]
    worker.stop()
    sandbox.env["RISKSTREAM_RULE_TIME_BUDGET_MS"] = "100"
    worker.start()
    assert disabled(), "a restart does not bring the rule back"
    [refusal] = rules_state(worker)["refused"]
    assert "on worker:" in refusal["error"]
    listing = cli(sandbox, "rules", "list")
    assert listing.returncode == 0, listing.stderr
    [line] = [line for line in listing.stdout.splitlines() if line.startswith("test.slow ")]
    assert line.split()[1:3] == ["v1", "disabled"]
    assert "test.slow v1 disabled: one evaluation took" in listing.stdout


def test_a_scoring_rule_over_its_time_budget_is_skipped_and_suspended_everywhere(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    # A budget of a microsecond: every scoring rule's evaluation overruns it.
    sandbox.env["RISKSTREAM_RULE_TIME_BUDGET_MS"] = "0.001"
    worker.start()
    scoring = [row for row in rules_state(worker)["rules"] if row["kind"] == "score"]
    assert scoring and all(row["mode"] == "active" for row in scoring)
    answer = score(worker, "acct-t")  # the answer comes, without the slow rules
    assert answer["decision"] == "accept"

    def suspended() -> bool:
        rows = [row for row in rules_state(worker)["rules"] if row["kind"] == "score"]
        return all((row["mode"], row["source"]) == ("disabled", "suspended") for row in rows)

    wait_until(suspended, 10.0)
    records = read_all(settings, settings.topics.rule_suspensions)
    assert sorted(r.key.decode() for r in records) == sorted(row["id"] for row in scoring)
    assert {orjson.loads(r.value)["kind"] for r in records} == {"score"}


def test_a_rule_suspended_by_one_worker_is_disabled_on_the_other(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    slow = "[1, 2, 3].exists(x, x * 100 < agg.n)"
    send_raw(settings, settings.topics.rules, [(b"test.slow", rule("test.slow", condition=slow))])
    worker.start()  # the default budget: it never suspends the rule itself
    timing = second_member(sandbox, tmp_path)
    timing.env["RISKSTREAM_RULE_TIME_BUDGET_MS"] = "0.001"
    other = Worker(timing, tmp_path / "worker-b.log")
    try:
        other.start()
        worker.wait_ready(90)  # both members have taken part in the rebalance
        # Accounts on every partition: some of them are the timing worker's.
        payments = [payment(f"acct-{n}", second) for n in range(40) for second in range(2)]
        send_raw(settings, settings.topics.transactions, payments)

        def disabled_here() -> bool:
            rows = [row for row in rules_state(worker)["rules"] if row["id"] == "test.slow"]
            return bool(rows) and rows[0]["mode"] == "disabled"

        wait_until(disabled_here, 60.0)
        [refusal] = rules_state(worker)["refused"]
        assert "disabled: one evaluation took" in refusal["error"]
        assert "on worker:" in refusal["error"]
    finally:
        other.ensure_stopped()
