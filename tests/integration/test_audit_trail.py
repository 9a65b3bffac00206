"""The audit trail on the real broker: lines before penalties, chains that verify, and
a forged entry found by ``riskstream audit verify``."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from riskstream.streams.codec import dumps, loads
from tests.integration.conftest import ROOT, Sandbox, Worker
from tests.integration.helpers import read_all, send_raw

pytestmark = pytest.mark.integration


def riskstream(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskstream", *args], env=sandbox.env, cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def penalty(entity_id: str) -> bytes:
    return dumps({"entity_type": "account", "entity_id": entity_id, "kind": "freeze",
                  "reason": "chargebacks", "ttl": "1h"})  # fmt: skip


def test_chained_audit_lines_verify_and_a_forged_one_is_found(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    worker.start()
    # The actor is whoever the token names.
    for entity_id, operator in (("acct-a1", "alice"), ("acct-a2", "bob")):
        answer = worker.call(
            "POST", "/penalties/", penalty(entity_id), role="operator", subject=operator
        )
        assert answer.status_code == 201, answer.text
    removed = worker.call(
        "DELETE", "/penalties/account:acct-a1:freeze:operator:alice/",
        role="operator", subject="carol", params={"reason": "cleared"},
    )  # fmt: skip
    assert removed.status_code == 200
    added = riskstream(sandbox, "penalties", "add", "--entity-id", "acct-a3", "--kind", "block",
                       "--reason", "mule", "--operator", "dave", "--ttl", "1h")  # fmt: skip
    assert added.returncode == 0, added.stderr

    audit = read_all(settings, settings.topics.audit)
    entries = [loads(record.value) for record in audit]
    assert [(e["actor"], e["seq"]) for e in entries] == [
        ("alice", 0), ("bob", 1), ("carol", 2), ("dave", 0),
    ]  # fmt: skip
    assert len({e["chain"] for e in entries[:3]}) == 1 and entries[3]["chain"].startswith("cli:")
    # Each line reached the broker before its penalty entry.
    penalties = read_all(settings, settings.topics.penalties)
    assert len(penalties) == 4
    for line, change in zip(audit, penalties, strict=True):
        assert line.key == change.key and line.timestamp_ms <= change.timestamp_ms

    intact = riskstream(sandbox, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "audit trail intact: 4 entries in 2 chains" in intact.stdout

    # Mallory rewrites alice's line in its own place in the chain.
    forged = {**entries[0], "actor": "mallory"}
    send_raw(settings, settings.topics.audit,
             [(audit[0].key, orjson.dumps(forged, option=orjson.OPT_SORT_KEYS))])  # fmt: skip
    broken = riskstream(sandbox, "audit", "verify")
    assert broken.returncode == 1
    lines = broken.stderr.strip().splitlines()
    assert len(lines) == 1, broken.stderr
    assert lines[0].startswith("riskstream audit: audit entry at offset 4: chain worker:")
    assert "seq 0 again" in lines[0]
