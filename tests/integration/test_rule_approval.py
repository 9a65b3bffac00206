"""Maker-checker on the real broker: a rule change takes effect once a second admin
approves it, never on its proposer's word alone, and both names reach the audit trail."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from riskstream.agents.rule_center import encode_rule
from riskstream.streams.codec import loads
from tests.integration.conftest import ROOT, Sandbox, Worker
from tests.integration.helpers import read_all, send_raw
from tests.integration.test_rules import (
    burst_signals,
    in_force,
    payments,
    rule,
    rules_state,
    wait_until,
    write_rule_file,
)

pytestmark = pytest.mark.integration


def riskstream(
    sandbox: Sandbox, *args: str, admin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(sandbox.env)
    if admin is not None:
        env["RISKSTREAM_OPERATOR_TOKEN"] = sandbox.token("admin", admin)
    return subprocess.run(
        [sys.executable, "-m", "riskstream", *args], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def required(sandbox: Sandbox) -> Sandbox:
    sandbox.env["RISKSTREAM_RULES_APPROVAL"] = "required"
    created = riskstream(sandbox, "topics", "create")
    assert created.returncode == 0, created.stderr
    return sandbox


def test_a_rule_change_waits_for_a_second_admin(
    required: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    sandbox, settings = required, required.settings
    worker.start()
    proposed = riskstream(sandbox, "rules", "push", str(write_rule_file(tmp_path, rule(1, 3))),
                          admin="alice")  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    found = re.search(r"proposed (rp-[0-9a-f]{16})", proposed.stdout)
    assert found is not None, proposed.stdout
    proposal_id = found.group(1)
    pending = riskstream(sandbox, "rules", "pending")
    assert proposal_id in pending.stdout and "by alice" in pending.stdout

    # Proposed only: detection is unchanged.
    send_raw(settings, settings.topics.transactions, payments("acct-before", 6))
    worker.wait_for("applied", 6)
    time.sleep(1.0)
    assert in_force(worker, "test.burst") is None
    assert burst_signals(sandbox) == []

    # The proposer cannot approve their own change.
    own = riskstream(sandbox, "rules", "approve", proposal_id, admin="alice")
    assert own.returncode != 0
    assert "second, different admin" in own.stderr
    assert len(own.stderr.strip().splitlines()) == 1

    # A raw record on the rules topic, without an approval, is refused.
    send_raw(settings, settings.topics.rules, [(b"test.burst", encode_rule(rule(1, 3)))])
    wait_until(lambda: any("carries no approval" in r["error"]
                           for r in rules_state(worker)["refused"]), 10.0)  # type: ignore[union-attr]  # fmt: skip
    assert in_force(worker, "test.burst") is None

    approved = riskstream(sandbox, "rules", "approve", proposal_id, admin="bob")
    assert approved.returncode == 0, approved.stderr
    wait_until(lambda: in_force(worker, "test.burst") is not None, 10.0)
    send_raw(settings, settings.topics.transactions, payments("acct-after", 5))
    worker.wait_for("applied", 11)
    signals: list[dict[str, object]] = []
    wait_until(lambda: bool(signals.extend(burst_signals(sandbox)) or signals), 10.0)
    assert {signal["entity_id"] for signal in signals} == {"acct-after"}

    audit = [loads(record.value) for record in read_all(settings, settings.topics.audit)]
    lines = [(e["action"], e["actor"], e["rule_change"]["proposer"], e["rule_change"]["approver"])
             for e in audit if e.get("rule_change")]  # fmt: skip
    assert lines == [("rule-propose", "alice", "alice", None),
                     ("rule-approve", "bob", "alice", "bob")]  # fmt: skip
    assert {e["rule_change"]["proposal_id"] for e in audit} == {proposal_id}
    verified = riskstream(sandbox, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "audit trail intact" in verified.stdout
