"""``riskstream scorer`` on the real broker: fresh, never judging on old data, and one
answer per event id across instances."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from riskstream.streams.codec import dumps, loads
from tests.integration.conftest import ROOT, Sandbox, Worker, free_port
from tests.integration.helpers import read_all, send_raw
from tests.integration.test_scoring import at, burst, txn

pytestmark = pytest.mark.integration


class ScorerProcess(Worker):
    """A real ``riskstream scorer`` process of the sandbox's deployment."""

    def __init__(self, sandbox: Sandbox, log_path: Path, **env: str) -> None:
        super().__init__(sandbox, log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**sandbox.env, **env}

    def spawn(self) -> None:
        import subprocess  # noqa: PLC0415

        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "riskstream", "--loglevel", "info", "scorer",
             "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip

    def score(self, body: Any) -> httpx.Response:
        return self.call("POST", "/score/", body, role="scorer", subject="it-scorer")


@pytest.fixture
def scorers(sandbox: Sandbox, tmp_path: Path) -> Iterator[list[ScorerProcess]]:
    """Scorer processes a test makes (``ScorerProcess``) and appends, stopped after it."""
    made: list[ScorerProcess] = []
    yield made
    for scorer in made:
        scorer.ensure_stopped()


def new_scorer(
    sandbox: Sandbox, tmp_path: Path, made: list[ScorerProcess], **env: str
) -> ScorerProcess:
    scorer = ScorerProcess(sandbox, tmp_path / f"scorer-{len(made)}.log", **env)
    made.append(scorer)
    return scorer


def judged(scorer: ScorerProcess, body: dict[str, Any], timeout_s: float = 60) -> dict[str, Any]:
    """The answer once the scorer judges (-1 RECOVERING before it has read everything)."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = scorer.score(body)
        assert response.status_code == 200, response.text
        answer = dict(response.json())
        if answer["score"] != -1 or time.monotonic() > deadline:
            return answer
        assert answer["reasons"][0]["code"] == "RECOVERING", answer
        time.sleep(0.2)


def test_a_signal_and_an_account_state_change_reach_a_scorer_within_a_second(
    sandbox: Sandbox, worker: Worker, tmp_path: Path, scorers: list[ScorerProcess]
) -> None:
    settings = sandbox.settings
    worker.start()
    scorer = new_scorer(sandbox, tmp_path, scorers)
    scorer.start()
    # A probe an hour before the burst cannot complete it: only the signal changes it.
    assert judged(scorer, txn("acct-fresh", occurred_at=at(-3600)))["score"] == 0
    send_raw(settings, settings.topics.transactions, burst("acct-fresh"))
    changed_at = None
    deadline = time.monotonic() + 30
    while changed_at is None and time.monotonic() < deadline:
        answer = judged(scorer, txn("acct-fresh", occurred_at=at(-3600)))
        if any(reason["code"] == "SIGNAL" for reason in answer["reasons"]):
            changed_at = time.time() * 1000
        time.sleep(0.02)
    assert changed_at is not None, scorer.log_tail()
    (signal,) = [
        record for record in read_all(settings, settings.topics.signals)
        if loads(record.value)["rule_id"] == "velocity.account"
    ]  # fmt: skip
    assert changed_at - signal.timestamp_ms <= 1000
    # The account's own state, from the changelog: ten payments in, the eleventh tried
    # on a copy of it completes the burst (no signal of it is published yet).
    send_raw(settings, settings.topics.transactions, burst("acct-state", count=10))
    candidate = {**txn("acct-state", "3.00"), "occurred_at": at(70)}
    deadline = time.monotonic() + 30
    while True:
        answer = judged(scorer, {**candidate, "event_id": f"{candidate['event_id']}-{time.time()}"})
        if [reason["rule_id"] for reason in answer["reasons"]] == ["velocity.account"]:
            changed_at = time.time() * 1000
            break
        assert time.monotonic() < deadline, (answer, scorer.log_tail())
        time.sleep(0.02)
    # Within a second of the worker's write of the account's state with the tenth in it.
    changelog = f"{settings.app_id}-account-state-changelog"
    (*_, stored) = [r for r in read_all(settings, changelog) if r.key == b"acct-state"]
    assert changed_at - stored.timestamp_ms <= 1000
    assert [loads(r.value)["entity_id"] for r in read_all(settings, settings.topics.signals)] == [
        "acct-fresh"
    ]


def test_a_scorer_behind_its_bound_answers_stale(
    sandbox: Sandbox, worker: Worker, tmp_path: Path, scorers: list[ScorerProcess]
) -> None:
    settings = sandbox.settings
    worker.start()
    # A bound no follower meets: each is at best as fresh as its last fetch answer.
    scorer = new_scorer(sandbox, tmp_path, scorers, RISKSTREAM_SCORER_MAX_LAG_S="0.001")
    scorer.spawn()
    body = txn("acct-stale")
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = scorer.score(body).json()
        except httpx.HTTPError:
            answer = {"reasons": [{"code": "not serving"}]}
        if answer["reasons"][0]["code"] == "STALE":
            break
        assert answer["reasons"][0]["code"] in {"RECOVERING", "not serving"}, answer
        assert time.monotonic() < deadline, scorer.log_tail()
        time.sleep(0.2)
    assert (answer["score"], answer["decision"]) == (-1, "review")
    assert "was last read to its end" in answer["reasons"][0]["detail"]
    health = httpx.get(f"{scorer.url}/health/", timeout=5)
    assert (health.status_code, health.json()["status"]) == (503, "stale")
    # Not judged, so nothing is published or remembered: a retry is judged afresh.
    assert [loads(r.value)["event_id"] for r in read_all(settings, settings.topics.decisions)] == []


def test_a_scorer_held_behind_answers_stale_then_judges_again(
    sandbox: Sandbox, worker: Worker, tmp_path: Path, scorers: list[ScorerProcess]
) -> None:
    """Held still (SIGSTOP) for longer than its bound: the request that was waiting is
    answered before its followers have read what came meanwhile, so STALE; once they
    have, it judges again."""
    worker.start()
    scorer = new_scorer(sandbox, tmp_path, scorers, RISKSTREAM_SCORER_MAX_LAG_S="2")
    scorer.start()
    assert scorer.process is not None
    headers = {"Authorization": f"Bearer {sandbox.token('scorer', 'it-scorer')}"}
    with httpx.Client(base_url=scorer.url, headers=headers, timeout=30) as client:
        # One connection, kept alive: the request waits in it while the scorer is held.
        deadline = time.monotonic() + 30
        while judged_on(client, txn("acct-held"))["score"] != 0:
            assert time.monotonic() < deadline, scorer.log_tail()
            time.sleep(0.1)
        scorer.process.send_signal(signal.SIGSTOP)
        try:
            with ThreadPoolExecutor(1) as pool:
                waiting = pool.submit(judged_on, client, txn("acct-held"))
                time.sleep(5)
                scorer.process.send_signal(signal.SIGCONT)
                held = waiting.result()
        finally:
            scorer.process.send_signal(signal.SIGCONT)
        assert (held["score"], held["reasons"][0]["code"]) == (-1, "STALE"), held
        deadline = time.monotonic() + 10
        while (again := judged_on(client, txn("acct-held")))["score"] == -1:
            assert time.monotonic() < deadline, again
            time.sleep(0.1)
        assert again["score"] == 0


def judged_on(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/score/", content=dumps(body),
                           headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_two_instances_give_one_answer_per_event_id(
    sandbox: Sandbox, worker: Worker, tmp_path: Path, scorers: list[ScorerProcess]
) -> None:
    """Two instances that would judge alike differently (one reviews everything): asked
    the same event ids at the same moment, both answer with the first decision on the
    decisions topic."""
    settings = sandbox.settings
    worker.start()
    strict = new_scorer(sandbox, tmp_path, scorers, RISKSTREAM_SCORE_REVIEW_AT="0")
    lenient = new_scorer(sandbox, tmp_path, scorers)
    for scorer in (strict, lenient):
        scorer.start()
        judged(scorer, txn("acct-warm-up"))
    bodies = [txn(f"acct-race-{n % 5}") for n in range(40)]

    def ask(scorer: ScorerProcess, body: dict[str, Any], start: threading.Barrier) -> Any:
        start.wait()  # both instances asked at the same moment
        return scorer.score(body).json()

    strict_answers, lenient_answers = [], []
    with ThreadPoolExecutor(2) as pool:
        for body in bodies:
            start = threading.Barrier(2)
            one = pool.submit(ask, strict, body, start)
            other = pool.submit(ask, lenient, body, start)
            strict_answers.append(one.result())
            lenient_answers.append(other.result())
    decisions: dict[str, list[dict[str, Any]]] = {}
    for record in read_all(settings, settings.topics.decisions):
        decisions.setdefault(loads(record.value)["event_id"], []).append(loads(record.value))
    kinds = set()
    for body, one, other in zip(bodies, strict_answers, lenient_answers, strict=True):
        assert one["score"] != -1 and other["score"] != -1, (one, other)
        assert one["decision"] == other["decision"] == decisions[body["event_id"]][0]["decision"]
        kinds.add(one["decision"])
        assert len(decisions[body["event_id"]]) <= 2
    assert kinds <= {"accept", "review"}
    # The same id with another body: 409 on either instance.
    for scorer in (strict, lenient):
        changed = scorer.score({**bodies[0], "amount": "99.00"})
        assert changed.status_code == 409, changed.text


def test_a_scorer_restarted_under_load_answers_minus_one_until_caught_up(
    sandbox: Sandbox, worker: Worker, tmp_path: Path, scorers: list[ScorerProcess]
) -> None:
    settings = sandbox.settings
    worker.start()
    send_raw(settings, settings.topics.transactions, burst("acct-known"))
    worker.wait_for("applied", 11)
    stop = threading.Event()

    def traffic() -> None:  # the stream keeps running meanwhile, ~100 events/s
        n = 0
        while not stop.is_set():
            records = [
                (f"acct-load-{n + i}".encode(), dumps(txn(f"acct-load-{n + i}"))) for i in range(20)
            ]
            send_raw(settings, settings.topics.transactions, records)
            n += 20
            time.sleep(0.2)

    loader = threading.Thread(target=traffic, daemon=True)
    loader.start()
    scorer = new_scorer(sandbox, tmp_path, scorers)
    try:
        for _ in range(2):  # a first start, then a restart
            scorer.spawn()
            answers = until_judged(scorer)
            codes = [answer["reasons"][0]["code"] for answer in answers[:-1]]
            assert set(codes) <= {"RECOVERING"}, codes
            # Once it judges, it judges on everything there was: the account's signal.
            last = answers[-1]
            assert [reason["rule_id"] for reason in last["reasons"]] == ["velocity.account"]
            for _ in range(20):
                answer = scorer.score(txn("acct-known", occurred_at=at(-3600))).json()
                assert answer["reasons"][0]["rule_id"] == "velocity.account", answer
            assert scorer.stop() == 0, scorer.log_tail()
    finally:
        stop.set()
        loader.join()


def until_judged(scorer: ScorerProcess, timeout_s: float = 90) -> list[dict[str, Any]]:
    """Every answer from the scorer's start until the first it judges."""
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            response = scorer.score(txn("acct-known", occurred_at=at(-3600)))
        except httpx.HTTPError:
            time.sleep(0.05)
            continue
        assert response.status_code == 200, response.text
        answers.append(response.json())
        if answers[-1]["score"] != -1:
            return answers
        time.sleep(0.05)
    pytest.fail(f"the scorer never judged: {answers[-3:]}\n{scorer.log_tail()}")
