"""Per-rule precision and volume from verdicts, on /rules/ and /metrics, on the real broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from riskstream.streams.codec import dumps, loads
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import read_all, send_raw

pytestmark = pytest.mark.integration

START = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
RULE = "velocity.account"


def at(second: int) -> str:
    return (START + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")


def burst(account: str) -> list[tuple[bytes, bytes]]:
    """Eleven payments in eleven seconds: velocity.account fires on the eleventh."""
    return [(account.encode(), dumps(payment(account, n))) for n in range(11)]


def payment(account: str, n: int) -> dict[str, Any]:
    return {
        "event_id": f"fb-{account}-{n}", "type": "payment", "occurred_at": at(60 + n),
        "account_id": account, "amount": "3.00", "currency": "CNY",
    }  # fmt: skip


def verdict(account: str, target: str, label: str, second: int) -> tuple[bytes, bytes]:
    body = {
        "event_id": f"verdict-{uuid.uuid4().hex[:8]}", "type": "feedback",
        "occurred_at": at(second), "account_id": account, "target_event_id": target,
        "label": label, "source": "analyst",
    }  # fmt: skip
    return account.encode(), dumps(body)


def rule_row(worker: Worker) -> dict[str, Any]:
    rows = worker.call("GET", "/rules/", role="analyst").json()["rules"]
    (row,) = [row for row in rows if row["id"] == RULE]
    return dict(row)


def wait_figures(worker: Worker, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while not done(figures := rule_row(worker)["feedback"]):
        assert time.monotonic() < deadline, f"/rules/ stayed at {figures}\n{worker.log_tail()}"
        time.sleep(0.2)
    return figures


def metric(worker: Worker, name: str, labels: str) -> float | None:
    text = httpx.get(f"{worker.url}/metrics", timeout=10).text
    prefix = f"{name}{{{labels}}} "
    found = [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]
    return float(found[0]) if found else None


def test_per_rule_precision_moves_with_feedback_events(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    worker.start()
    row = rule_row(worker)
    assert (row["effect"], row["feedback"]["alerts"], row["feedback"]["precision"]) == (
        "score", 0, None,
    )  # fmt: skip

    send_raw(settings, settings.topics.transactions, burst("acct-judged"))
    figures = wait_figures(worker, lambda f: f["alerts"] == 1)
    assert (figures["judged"], figures["precision"]) == (0, None)
    (signal,) = [loads(r.value) for r in read_all(settings, settings.topics.signals)]
    trigger = signal["trigger_event_id"]

    # An analyst clears the alert: one judged, not fraud.
    send_raw(settings, settings.topics.feedback, [verdict("acct-judged", trigger, "legit", 600)])
    figures = wait_figures(worker, lambda f: f["judged"] == 1)
    assert (figures["fraud"], figures["legit"], figures["precision"]) == (0, 1, 0.0)

    # A later verdict on the same transaction replaces it.
    send_raw(settings, settings.topics.feedback, [verdict("acct-judged", trigger, "fraud", 700)])
    figures = wait_figures(worker, lambda f: f["fraud"] == 1)
    assert (figures["legit"], figures["precision"]) == (0, 1.0)
    assert figures["precision_low"] < 0.5  # one out of one is no certainty

    # A second alert, judged by a verdict on one of its evidence transactions.
    send_raw(settings, settings.topics.transactions, burst("acct-other"))
    figures = wait_figures(worker, lambda f: f["alerts"] == 2)
    send_raw(settings, settings.topics.feedback, [verdict("acct-other", "fb-acct-other-3",
                                                          "legit", 600)])  # fmt: skip
    figures = wait_figures(worker, lambda f: f["judged"] == 2)
    assert (figures["fraud"], figures["legit"], figures["precision"]) == (1, 1, 0.5)
    assert figures["alerts_per_day"] == 2.0

    # The same figures in Prometheus, labelled by the rule id alone.
    label = f'rule="{RULE}"'
    assert metric(worker, "riskstream_rule_alerts", label) == 2.0
    assert metric(worker, "riskstream_rule_alerts_judged", label) == 2.0
    assert metric(worker, "riskstream_rule_precision", label) == 0.5
    assert metric(worker, "riskstream_rule_verdicts", f'{label},verdict="fraud"') == 1.0
    assert metric(worker, "riskstream_rule_precision", 'rule="account_takeover"') is None
