"""The real-time scorer and the penalty center on the real broker."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from riskstream.streams.codec import dumps, loads
from riskstream.streams.kafka_io import producer
from riskstream.streams.settings import Settings
from riskstream.streams.topics import create_topics
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import read_all, send_raw, wait_for_signals

pytestmark = pytest.mark.integration


# Recent event times: the scorer judges expiry by the wall clock (signals live 24 h),
# so signals drawn from events of a fixed, past date would have expired already.
START = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)


def at(second: int) -> str:
    return (START + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")


def txn(account: str, amount: str = "12.50", **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"score-{uuid.uuid4().hex[:12]}",
        "type": "payment",
        "occurred_at": at(0),
        "account_id": account,
        "amount": amount,
        "currency": "CNY",
        **extra,
    }


def post(worker: Worker, path: str, body: Any, subject: str = "it-operator") -> httpx.Response:
    """A scorer's POST to /score/, an operator's (``subject``) to the penalty center."""
    return worker.call(
        "POST", path, body, role="scorer" if path == "/score/" else "operator", subject=subject
    )


def scored(worker: Worker, body: dict[str, Any]) -> dict[str, Any]:
    """Score, waiting out the first seconds in which the worker may still be loading."""
    deadline = time.monotonic() + 30
    while True:
        response = post(worker, "/score/", body)
        assert response.status_code == 200, response.text
        answer = dict(response.json())
        if answer["score"] != -1 or time.monotonic() > deadline:
            return answer
        assert answer["reasons"][0]["code"] == "RECOVERING"
        time.sleep(0.2)


def burst(account: str, count: int = 11) -> list[tuple[bytes, bytes]]:
    return [
        (
            account.encode(),
            dumps({**txn(account, "3.00"), "occurred_at": at(60 + n)}),
        )
        for n in range(count)
    ]


def test_a_new_signal_changes_the_answer_within_a_second(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    worker.start()
    # Probes an hour before the burst: outside its window, they cannot complete it
    # themselves, so only the published signal can change the answer.
    first = scored(worker, txn("acct-fresh", occurred_at=at(-3600)))
    assert (first["score"], first["decision"]) == (0, "accept")
    send_raw(settings, settings.topics.transactions, burst("acct-fresh"))
    changed_at = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = scored(worker, txn("acct-fresh", occurred_at=at(-3600)))
        if any(reason["code"] == "SIGNAL" for reason in answer["reasons"]):
            changed_at = time.time() * 1000
            break
        time.sleep(0.05)
    assert changed_at is not None, "the signal never reached the scorer"
    signals = [loads(record.value) for record in read_all(settings, settings.topics.signals)]
    velocity = [s for s in signals if s["rule_id"] == "velocity.account"]
    (record,) = [
        r for r in read_all(settings, settings.topics.signals)
        if loads(r.value)["signal_id"] == velocity[0]["signal_id"]
    ]  # fmt: skip
    assert changed_at - record.timestamp_ms <= 1000
    # velocity.account is a score-effect rule: alone, its 60 stays below review (40).
    assert velocity[0]["effect"] == "score"
    assert (velocity[0]["severity"], answer["score"], answer["decision"]) == (60, 39, "accept")
    assert answer["reasons"][0]["signal_id"] == velocity[0]["signal_id"]


def test_the_transaction_that_completes_a_pattern_is_judged_with_it(
    sandbox: Sandbox, worker: Worker
) -> None:
    """Tried on a copy of the account's state: the scorer cites the signal the
    transaction fires before the stream has seen it, and stores nothing."""
    settings = sandbox.settings
    worker.start()
    scored(worker, txn("acct-probe"))  # the worker is ready
    send_raw(settings, settings.topics.transactions, burst("acct-whatif", count=10))
    worker.wait_for("applied", 10)  # ten payments: velocity.account needs more than ten
    candidates = [{**txn("acct-whatif", "3.00"), "occurred_at": at(70 + n)} for n in range(2)]
    answers = [scored(worker, body) for body in candidates]
    for answer in answers:
        # A score-effect rule's signal alone: below review.
        assert (answer["score"], answer["decision"]) == (39, "accept"), answer
        assert [r["rule_id"] for r in answer["reasons"]] == ["velocity.account"]
    # Each was tried alone (the first was not stored, or it would have suppressed the
    # second's window), and nothing was published for them.
    assert answers[0]["reasons"][0]["signal_id"] != answers[1]["reasons"][0]["signal_id"]
    assert [loads(r.value) for r in read_all(settings, settings.topics.signals)] == []
    # Once the stream gets the first, it publishes the very signal the scorer cited.
    send_raw(settings, settings.topics.transactions, [(b"acct-whatif", dumps(candidates[0]))])
    (published,) = [
        loads(r.value) for r in wait_for_signals(settings, {answers[0]["reasons"][0]["signal_id"]})
    ]
    assert published["trigger_event_id"] == candidates[0]["event_id"]


def test_same_event_id_same_answer_and_every_decision_is_published(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    worker.start()
    body = txn("acct-idem")
    first = scored(worker, body)
    send_raw(settings, settings.topics.transactions, burst("acct-idem"))
    time.sleep(3)  # a signal for the account is in force now ...
    second = scored(worker, body)  # ... but the same event id keeps its answer
    first.pop("latency_ms")
    second.pop("latency_ms")
    assert first == second
    assert scored(worker, txn("acct-idem"))["score"] > 0
    decisions = [loads(r.value) for r in read_all(settings, settings.topics.decisions)]
    assert [d["event_id"] for d in decisions].count(body["event_id"]) == 1
    assert len(decisions) == 2


def test_a_retry_after_a_restart_gets_the_decision_already_given(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    worker.start()
    body = txn("acct-retry")
    first = scored(worker, body)
    assert worker.stop() == 0
    # Meanwhile the account turned risky: a fresh event id would now be judged so.
    send_raw(settings, settings.topics.transactions, burst("acct-retry"))
    worker.start()
    deadline = time.monotonic() + 30
    while scored(worker, txn("acct-retry"))["score"] <= first["score"]:
        assert time.monotonic() < deadline, (
            f"the burst's signal never reached the scorer: {worker.stats()} "
            f"{[loads(r.value) for r in read_all(settings, settings.topics.signals)]} "
            f"{worker.call('GET', '/profiles/account/acct-retry/').text} "
            f"{scored(worker, txn('acct-retry'))}"
        )
        time.sleep(0.1)
    again = scored(worker, body)
    first.pop("latency_ms")  # this request's own time
    again.pop("latency_ms")
    assert again == first
    decisions = [loads(r.value) for r in read_all(settings, settings.topics.decisions)]
    assert [d["event_id"] for d in decisions].count(body["event_id"]) == 1


def test_a_legit_verdict_on_the_alerting_transaction_clears_the_alert(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    worker.start()
    send_raw(settings, settings.topics.transactions, burst("acct-verdict"))
    deadline = time.monotonic() + 60
    while scored(worker, txn("acct-verdict", occurred_at=at(-3600)))["score"] == 0:
        assert time.monotonic() < deadline, (
            f"the burst's signal never reached the scorer: {worker.stats()} "
            f"{worker.call('GET', '/profiles/account/acct-verdict/').text}"
            f"{[loads(r.value) for r in read_all(settings, settings.topics.signals)]}"
        )
        time.sleep(0.1)
    (signal,) = [loads(r.value) for r in read_all(settings, settings.topics.signals)]
    feedback = {
        "event_id": f"fb-{uuid.uuid4().hex[:8]}", "type": "feedback", "occurred_at": at(600),
        "account_id": "acct-verdict", "target_event_id": signal["trigger_event_id"],
        "label": "legit", "source": "customer",
    }  # fmt: skip
    send_raw(settings, settings.topics.feedback, [(b"acct-verdict", dumps(feedback))])
    deadline = time.monotonic() + 60
    while (answer := scored(worker, txn("acct-verdict", occurred_at=at(-3600))))["score"] != 0:
        assert time.monotonic() < deadline, f"the verdict never cleared the alert: {answer}"
        time.sleep(0.1)
    assert answer["decision"] == "accept"


def test_bad_requests_get_422_naming_the_field_and_unknown_routes_404(
    sandbox: Sandbox, worker: Worker
) -> None:
    worker.start()
    bad = post(worker, "/score/", {**txn("a"), "amount": "-5", "occurred_at": "yesterday"})
    assert bad.status_code == 422
    fields = {item["field"] for item in bad.json()["fields"]}
    assert fields == {"amount", "occurred_at"}
    assert post(worker, "/score/", {**txn("a"), "type": "login"}).status_code == 422
    not_json = worker.call("POST", "/score/", b"{nope", role="scorer")
    assert not_json.status_code == 422 and "not JSON" in not_json.json()["error"]
    assert worker.call("GET", "/no-such-page/").status_code == 404
    bad_penalty = post(worker, "/penalties/", {"entity_type": "planet", "entity_id": "x"})
    assert bad_penalty.status_code == 422
    assert "entity_type" in {item["field"] for item in bad_penalty.json()["fields"]}


def test_penalties_freeze_expire_allow_and_limit(sandbox: Sandbox, worker: Worker) -> None:
    settings = sandbox.settings
    worker.start()
    freeze = post(worker, "/penalties/", {
        "entity_type": "account", "entity_id": "acct-pen", "kind": "freeze",
        "reason": "chargebacks", "ttl": "3s",
    }, subject="alice")  # fmt: skip
    assert freeze.status_code == 201
    answer = scored(worker, txn("acct-pen"))
    assert (answer["decision"], answer["reasons"][0]["code"]) == ("reject", "ACCOUNT_FROZEN")
    time.sleep(3.5)  # the freeze expires by itself
    assert scored(worker, txn("acct-pen"))["decision"] == "accept"

    # Allow-listed: even an account with a velocity signal is accepted.
    send_raw(settings, settings.topics.transactions, burst("acct-vip"))
    deadline = time.monotonic() + 20
    while scored(worker, txn("acct-vip"))["score"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert post(worker, "/penalties/", {
        "entity_type": "account", "entity_id": "acct-vip", "kind": "allow",
        "reason": "verified merchant owner", "ttl": "1h",
    }, subject="bob").status_code == 201  # fmt: skip
    trusted = scored(worker, txn("acct-vip"))
    assert (trusted["score"], trusted["decision"], trusted["reasons"][0]["code"]) == (
        0,
        "accept",
        "ALLOW_LISTED",
    )

    # A daily limit counts what the stream has seen today for the account.
    assert post(worker, "/penalties/", {
        "entity_type": "account", "entity_id": "acct-lim", "kind": "limit",
        "reason": "new account", "ttl": "1h", "daily_limit": "100",
    }, subject="carol").status_code == 201  # fmt: skip
    today = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    spent = [(b"acct-lim", dumps({**txn("acct-lim", "45"), "occurred_at": today}))
             for _ in range(2)]  # fmt: skip
    send_raw(settings, settings.topics.transactions, spent)
    worker.wait_for("applied", 11 + 2)
    over = scored(worker, txn("acct-lim", "20"))
    assert (over["decision"], over["reasons"][0]["code"]) == ("reject", "LIMIT_DAILY")
    assert scored(worker, txn("acct-lim", "5"))["decision"] == "accept"

    # Removal needs a reason, and is audited under the caller's name.
    listing = worker.call("GET", "/penalties/?entity_id=acct-vip", role="analyst").json()
    (entry,) = listing["penalties"]
    path = f"/penalties/{entry['penalty_id']}/"
    assert worker.call("DELETE", path, role="operator", subject="bob").status_code == 422
    removed = worker.call(
        "DELETE", path, role="operator", subject="bob",
        params={"reason": "ownership not confirmed"},
    )  # fmt: skip
    assert removed.status_code == 200
    audit = [loads(r.value) for r in read_all(settings, settings.topics.audit)]
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("add", "alice"),
        ("add", "bob"),
        ("add", "carol"),
        ("remove", "bob"),
    ]
    assert audit[-1]["reason"] == "ownership not confirmed"
    profile = worker.call("GET", "/profiles/account/acct-vip/", role="analyst").json()
    assert profile["penalties"] == []
    assert [s["rule_id"] for s in profile["signals"]] == ["velocity.account"]


def produce_signal_backlog(settings: Settings, entity_id: str, count: int) -> None:
    now = datetime.now(UTC)
    sink = producer(settings)
    for n in range(count):
        body = {
            "signal_id": f"sig_backlog_{n}", "pattern": "velocity.account",
            "rule_id": "velocity.account", "rule_version": 1, "entity_type": "account",
            "entity_id": entity_id, "severity": 60, "evidence": [f"e{n}"], "aggregates": {},
            "trigger_event_id": f"e{n}", "detected_at": now.isoformat(),
            "expires_at": (now + timedelta(hours=1)).isoformat(),
        }  # fmt: skip
        sink.send(settings.topics.signals, key=entity_id.encode(), value=dumps(body))
    sink.flush()
    sink.close()


def test_minus_one_while_the_profiles_are_still_loading(sandbox: Sandbox, worker: Worker) -> None:
    """A backlog of signals to read at start: the scorer says -1 until it has read them."""
    create_topics(sandbox.settings)
    produce_signal_backlog(sandbox.settings, "acct-backlog", 150_000)
    worker.spawn()
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (answers and answers[-1]["score"] != -1):
        try:
            response = post(worker, "/score/", txn("acct-backlog"))
        except httpx.HTTPError:
            time.sleep(0.05)
            continue
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert answers, worker.log_tail()
    assert answers[0]["score"] == -1
    assert answers[0]["reasons"][0]["code"] == "RECOVERING"
    # Once loaded, the backlog counts as one rule's evidence, not 150,000 signals.
    assert answers[-1]["score"] == 60
    assert len(answers[-1]["reasons"]) == 1
