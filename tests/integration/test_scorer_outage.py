"""A ``riskstream scorer`` cut off from its broker: it says so (-1 ``STALE``, ``/health/``
503) instead of judging on what it read before, and judges again once the broker is
back, with no restart. The broker is the test's own (stopping it disturbs no other)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Sandbox, Worker
from tests.integration.test_broker_faults import OwnBroker, on_broker, own_broker
from tests.integration.test_scorer_process import ScorerProcess, judged
from tests.integration.test_scoring import txn

pytestmark = pytest.mark.integration
__all__ = ["own_broker"]  # the fixture, imported for this module's tests

MAX_LAG_S = "3"


def answer_code(scorer: ScorerProcess, body: dict[str, object]) -> tuple[int, str]:
    answer = scorer.score(body).json()
    return int(answer["score"]), str(answer["reasons"][0]["code"] if answer["reasons"] else "")


@pytest.mark.parametrize("how", ["kill9"])
def test_a_scorer_cut_off_from_its_broker_answers_stale_then_judges_again(
    sandbox: Sandbox, own_broker: OwnBroker, tmp_path: Path, how: str
) -> None:
    box = on_broker(sandbox, own_broker.bootstrap)
    worker = Worker(box, tmp_path / "worker.log")
    scorer = ScorerProcess(box, tmp_path / "scorer.log", RISKSTREAM_SCORER_MAX_LAG_S=MAX_LAG_S)
    try:
        worker.start()
        scorer.start()
        assert judged(scorer, txn("acct-cut"))["score"] == 0, scorer.log_tail()
        own_broker.stop(how)
        # Within the bound (and a follower's fetch wait) every answer is -1 STALE.
        deadline = time.monotonic() + 30
        while (got := answer_code(scorer, txn("acct-cut"))) != (-1, "STALE"):
            assert got[0] in (0, -1), got  # judged while fresh, or STALE: nothing else
            assert time.monotonic() < deadline, scorer.log_tail()
            time.sleep(0.2)
        health = httpx.get(f"{scorer.url}/health/", timeout=5)
        assert (health.status_code, health.json()["status"]) == (503, "stale")
        time.sleep(5)  # longer out than the bound: still STALE, never a judgement
        assert answer_code(scorer, txn("acct-cut")) == (-1, "STALE")
        own_broker.start()
        deadline = time.monotonic() + 120
        while (got := answer_code(scorer, txn("acct-cut")))[0] == -1:
            assert got[1] in ("STALE", "RECOVERING"), got
            assert time.monotonic() < deadline, scorer.log_tail()
            time.sleep(0.5)
        assert got[0] == 0
        assert httpx.get(f"{scorer.url}/health/", timeout=5).status_code == 200
        assert scorer.process is not None and scorer.process.poll() is None
    finally:
        scorer.ensure_stopped()
        worker.ensure_stopped()
