"""Hot reload through the rules topic, refusal of bad rules, shadow mode: real broker."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from riskstream.agents.rule_center import encode_rule
from riskstream.rules.loader import default_pack, parse_rule
from riskstream.streams.codec import dumps, loads
from riskstream.streams.rule_model import RuleDoc
from tests.integration.conftest import ROOT, Sandbox, Worker
from tests.integration.helpers import read_all, send_raw

pytestmark = pytest.mark.integration

RULE = """
id: test.burst
version: {version}
mode: {mode}
description: More than {limit} payments within 10 minutes (test rule).
events: [payment]
window: {{type: sliding, size: 10m}}
aggregates: {{n: {{fn: count}}}}
condition: agg.n > {limit}
severity: 40
"""


def rule(version: int, limit: int, mode: str = "active") -> RuleDoc:
    import yaml  # noqa: PLC0415

    return parse_rule(yaml.safe_load(RULE.format(version=version, limit=limit, mode=mode)), "t")


def cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskstream", "rules", *args],
        env=sandbox.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def topics(sandbox: Sandbox) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "riskstream", "topics", "create"],
        env=sandbox.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr


def payments(account: str, count: int, start_second: int = 0) -> list[tuple[bytes, bytes]]:
    return [
        (
            account.encode(),
            dumps(
                {
                    "event_id": f"{account}-{start_second + n}",
                    "type": "payment",
                    "occurred_at": f"2026-11-23T08:{(start_second + n) // 60:02d}:"
                    f"{(start_second + n) % 60:02d}Z",
                    "account_id": account,
                    "amount": "1.00",
                    "currency": "CNY",
                }
            ),
        )
        for n in range(count)
    ]


def rules_state(worker: Worker) -> dict[str, object]:
    return dict(worker.call("GET", "/rules/", role="analyst", timeout=5).json())


def in_force(worker: Worker, rule_id: str) -> dict[str, object] | None:
    rules = rules_state(worker)["rules"]
    assert isinstance(rules, list)
    return next((row for row in rules if row["id"] == rule_id), None)


def wait_until(check: object, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"condition not met within {timeout_s} s")


def burst_signals(sandbox: Sandbox) -> list[dict[str, object]]:
    records = read_all(sandbox.settings, sandbox.settings.topics.signals, idle_s=1.5)
    return [
        body for body in map(lambda r: loads(r.value), records) if body["rule_id"] == "test.burst"
    ]


def write_rule_file(tmp_path: Path, doc: RuleDoc) -> Path:
    path = tmp_path / f"{doc.id}-v{doc.version}.json"
    path.write_bytes(encode_rule(doc))
    return path


def test_a_threshold_change_reaches_a_running_worker_within_10_s(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    assert cli(sandbox, "push", str(write_rule_file(tmp_path, rule(1, 20)))).returncode == 0
    worker.start()
    assert in_force(worker, "test.burst")["version"] == 1  # type: ignore[index]
    send_raw(settings, settings.topics.transactions, payments("acct-a", 8))
    worker.wait_for("applied", 8)
    assert burst_signals(sandbox) == []

    pushed = cli(sandbox, "push", str(write_rule_file(tmp_path, rule(2, 5))))
    assert pushed.returncode == 0, pushed.stderr
    elapsed = wait_until(lambda: in_force(worker, "test.burst")["version"] == 2, 10.0)  # type: ignore[index]
    assert elapsed <= 10.0
    send_raw(settings, settings.topics.transactions, payments("acct-a", 1, start_second=8))
    worker.wait_for("applied", 9)
    signals = []
    wait_until(lambda: bool(signals.extend(burst_signals(sandbox)) or signals), 10.0)
    assert [(s["rule_version"], s["entity_id"]) for s in signals] == [(2, "acct-a")]
    assert signals[0]["aggregates"] == {"n": 9}


def test_an_invalid_rule_is_refused_and_the_old_version_keeps_running(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    assert cli(sandbox, "push", str(write_rule_file(tmp_path, rule(1, 3)))).returncode == 0
    worker.start()
    # The CLI refuses a broken file before anything reaches the topic.
    broken = tmp_path / "broken.yaml"
    broken.write_text(RULE.format(version=2, limit="3 &&", mode="active"))
    refused = cli(sandbox, "push", str(broken))
    assert refused.returncode != 0
    assert "condition" in refused.stderr + refused.stdout
    # A broken document written to the topic by other means is refused by the worker.
    bad = orjson.loads(encode_rule(rule(1, 3)))
    bad.update(version=2, condition="agg.n >>> 3")
    send_raw(settings, settings.topics.rules, [(b"test.burst", orjson.dumps(bad))])
    wait_until(lambda: len(rules_state(worker)["refused"]) == 1, 10.0)  # type: ignore[arg-type]
    refusal = rules_state(worker)["refused"][0]  # type: ignore[index]
    assert refusal["rule_id"] == "test.burst"
    assert "condition" in refusal["error"]
    assert in_force(worker, "test.burst")["version"] == 1  # type: ignore[index]
    # ... and an older or silently changed version is refused too.
    send_raw(settings, settings.topics.rules, [(b"test.burst", encode_rule(rule(1, 50)))])
    wait_until(lambda: len(rules_state(worker)["refused"]) == 2, 10.0)  # type: ignore[arg-type]

    send_raw(settings, settings.topics.transactions, payments("acct-b", 4))
    signals = []
    wait_until(lambda: bool(signals.extend(burst_signals(sandbox)) or signals), 15.0)
    assert [(s["rule_version"], s["entity_id"]) for s in signals] == [(1, "acct-b")]


def test_shadow_rules_count_but_do_not_publish_and_disable_stops_them(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    path = write_rule_file(tmp_path, rule(1, 3, mode="shadow"))
    assert cli(sandbox, "push", str(path)).returncode == 0
    worker.start()
    send_raw(settings, settings.topics.transactions, payments("acct-c", 5))
    stats = worker.wait_for("shadow_signals", 1)
    assert stats["shadow_signals"] == 1
    assert burst_signals(sandbox) == []

    disabled = cli(sandbox, "disable", "test.burst")
    assert disabled.returncode == 0, disabled.stderr
    wait_until(lambda: in_force(worker, "test.burst")["mode"] == "disabled", 10.0)  # type: ignore[index]
    send_raw(settings, settings.topics.transactions, payments("acct-d", 5))
    worker.wait_for("applied", 10)
    time.sleep(1)
    assert worker.stats()["shadow_signals"] == 1
    listing = cli(sandbox, "list")
    assert "test.burst" in listing.stdout and "disabled" in listing.stdout


def test_state_of_a_key_no_rule_uses_any_more_is_deleted(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    sandbox.env["RISKSTREAM_CLEANUP_INTERVAL_S"] = "1"
    worker.start()
    with_ip = [
        (key, dumps({**loads(body), "ip": f"203.0.113.{n}", "device_id": "dev-kept"}))
        for n, (key, body) in enumerate(payments("acct-ip", 3))
    ]
    send_raw(settings, settings.topics.transactions, with_ip)
    worker.wait_for("entity_events", 3)
    changelog = f"{settings.app_id}-entity-state-changelog"
    ip_keys = {f"event.ip\x1f203.0.113.{n}".encode() for n in range(3)}

    def latest() -> dict[bytes, bytes | None]:
        state: dict[bytes, bytes | None] = {}
        for record in read_all(settings, changelog, idle_s=1.0):
            state[record.key] = record.value  # type: ignore[index]
        return state

    assert all(latest().get(key) for key in ip_keys)
    ip_rules = [doc.id for doc in default_pack() if doc.key == "event.ip"]
    assert {"velocity.ip", "login.credential_stuffing"} <= set(ip_rules)
    for rule_id in ip_rules:  # every rule keyed on the address
        assert cli(sandbox, "disable", rule_id).returncode == 0
    wait_until(lambda: all(latest().get(key, b"") is None for key in ip_keys), 20.0)
    # Keys that rules in force still use are kept.
    assert latest().get(b"event.device_id\x1fdev-kept")


def test_decisions_rules_and_stats_name_the_rules_in_force_alike(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    """An analyst matches a decision to the rules it was judged with: ``rules_version`` of
    a decision, ``version`` of /rules/ and ``rules_version`` of /stats/ are one value, and
    move together when a rule changes."""
    worker.start()

    def versions(event_id: str) -> tuple[str, str, str]:
        body = {
            "event_id": event_id, "type": "payment", "occurred_at": "2026-11-23T08:00:00Z",
            "account_id": "acct-v", "amount": "1.00", "currency": "CNY",
        }  # fmt: skip
        decision = worker.call("POST", "/score/", body, role="scorer").json()
        stats = worker.call("GET", "/stats/", role="analyst", timeout=5).json()
        return decision["rules_version"], rules_state(worker)["version"], stats["rules_version"]  # type: ignore[return-value]

    before = versions("v-1")
    assert before[0] and len(set(before)) == 1, before
    pushed = cli(sandbox, "push", str(write_rule_file(tmp_path, rule(1, 20))))
    assert pushed.returncode == 0, pushed.stderr
    wait_until(lambda: in_force(worker, "test.burst") is not None, 10.0)
    after = versions("v-2")
    assert len(set(after)) == 1, after
    assert after[0] != before[0]
