"""The scorer behind a host of its own: -1 when it cannot judge now, and answers
confirmed on the decisions topic where other instances may judge the same event id."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import riskstream.agents.scorer as scorer_module
from riskstream.agents.decision_memory import decision_partition
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.score_request import (
    IdempotencyConflictError,
    parse_transaction,
    request_digest,
)
from riskstream.agents.scorer import Scorer
from riskstream.agents.scorer_host import Work
from riskstream.streams.codec import dumps
from riskstream.streams.freshness import Freshness
from riskstream.streams.outputs import Decision
from riskstream.streams.redaction import tokeniser_for
from riskstream.streams.settings import Settings


class Host:
    """Records what the scorer sends; reads a decision back (``echo``) as the topic would."""

    confirms_decisions = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, int | None]] = []
        self.echo = True
        self.scorer: Scorer | None = None

    def start(self, name: str, work: Work) -> None:
        pass  # no followers here: the test sets what they would

    async def partitions(self, topic: str) -> int:
        return 4

    async def send(
        self,
        topic: str,
        key: bytes,
        value: bytes | None,
        partition: int | None = None,
        *,
        acked: bool = True,
    ) -> None:
        self.sent.append((topic, key, value, partition))
        if self.echo and self.scorer is not None and topic == self.scorer.settings.topics.decisions:
            scorer = self.scorer
            asyncio.get_running_loop().call_soon(lambda: scorer.memory.apply_record(Record(value)))

    def account_record(self, account_id: str) -> bytes | None:
        return None


class Record:
    def __init__(self, value: bytes | None) -> None:
        self.value, self.offset = value, 0


class Clock:
    now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def ready_scorer(**settings: Any) -> tuple[Scorer, Host, Clock]:
    clock = Clock()
    host = Host()
    freshness = Freshness(clock)
    scorer = Scorer(
        host, Settings(scorer_confirm_timeout_s=0.05, **settings), RuleCenter([]),
        freshness=freshness,
    )  # fmt: skip
    host.scorer = scorer
    for event in (
        scorer.center.ready, scorer.profiles_ready, scorer.penalties_ready,
        scorer.models_ready, scorer.decisions_ready, scorer.verdicts_ready, scorer.history_ready,
    ):  # fmt: skip
        event.set()
    topic = freshness.topic("risk.signals")
    topic.assigned([0])
    topic.observe(0, position=1, highwater=1, polled_ms=int(clock.now_s * 1000))
    return scorer, host, clock


def transaction(event_id: str = "tx-1", amount: str = "5.00") -> Any:
    body = {"event_id": event_id, "type": "payment", "occurred_at": "2026-12-07T10:00:00Z",
            "account_id": "acct-1", "amount": amount, "currency": "CNY"}  # fmt: skip
    return parse_transaction(dumps(body), tokeniser_for(Settings()))


async def test_a_scorer_not_yet_caught_up_answers_recovering() -> None:
    scorer, host, _ = ready_scorer()
    scorer.also_ready.append(asyncio.Event())  # the account state, still loading
    decision = await scorer.decide(transaction())
    assert (decision.score, decision.reasons[0].code) == (-1, "RECOVERING")
    assert host.sent == []


async def test_a_scorer_further_behind_than_the_bound_answers_stale() -> None:
    scorer, host, clock = ready_scorer(scorer_max_lag_s=5.0)
    clock.now_s += 4.9
    assert (await scorer.decide(transaction("tx-fresh"))).score == 0
    clock.now_s += 0.2  # 5.1 s since risk.signals was last read to its end
    decision = await scorer.decide(transaction("tx-stale"))
    assert (decision.score, decision.decision) == (-1, "review")
    assert decision.reasons[0].code == "STALE"
    assert "risk.signals" in decision.reasons[0].detail
    assert [value for _, _, value, _ in host.sent if b"tx-stale" in (value or b"")] == []


async def test_the_answer_is_the_first_decision_on_the_topic_and_same_requests_share_it() -> None:
    scorer, host, _ = ready_scorer()
    host.echo = False  # the test reads the records back itself, in its own order
    first = asyncio.create_task(scorer.decide(transaction()))
    for _ in range(10):  # the judging, then the send
        await asyncio.sleep(0)
    assert len(host.sent) == 1
    # A second request here for the same event id waits on the same read-back.
    second = asyncio.create_task(scorer.decide(transaction()))
    await asyncio.sleep(0)
    # Another instance (say, one that reviews everything) got its record in first.
    rival = Decision(event_id="tx-1", score=0, decision="review",
                     request_sha256=request_digest(transaction()))  # fmt: skip
    scorer.memory.apply_record(Record(dumps(rival)))
    scorer.memory.apply_record(Record(host.sent[0][2]))  # ours, second on the partition
    assert [(await first).decision, (await second).decision] == ["review", "review"]
    assert len(host.sent) == 1  # the second request published nothing
    with pytest.raises(IdempotencyConflictError):
        await scorer.decide(transaction(amount="6.00"))


async def test_an_own_decision_read_back_is_the_answer_on_its_event_ids_partition() -> None:
    scorer, host, _ = ready_scorer()
    decision = await scorer.decide(transaction("tx-2"))
    assert (decision.score, decision.decision) == (0, "accept")
    ((topic, key, _, partition),) = host.sent
    assert (topic, key) == ("risk.decisions", b"acct-1")
    assert partition == decision_partition("tx-2", 4)


async def test_a_decision_not_read_back_in_time_is_minus_one_stale() -> None:
    scorer, host, _ = ready_scorer()
    host.echo = False
    decision = await scorer.decide(transaction("tx-3"))
    assert (decision.score, decision.reasons[0].code) == (-1, "STALE")
    assert scorer.unconfirmed == 1
    assert scorer.memory.pending("tx-3") is None


async def test_a_scorer_reads_decisions_back_with_one_consumer_at_the_read_back_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    followed: dict[str, tuple[str, int]] = {}

    def recorder(kind: str) -> Any:
        async def follow(connection: dict[str, Any], topic: str, *args: Any, **kw: Any) -> None:
            followed[topic] = (kind, connection["fetch_max_wait_ms"])

        return follow

    monkeypatch.setattr(scorer_module, "follow_topic", recorder("one consumer"))
    monkeypatch.setattr(scorer_module, "follow_partitions", recorder("per partition"))
    works: list[Work] = []

    class Starting(Host):
        def start(self, name: str, work: Work) -> None:
            if name.startswith("follow_"):
                works.append(work)

    settings = Settings(scorer_readback_wait_ms=7)
    Scorer(Starting(), settings, RuleCenter([]), freshness=Freshness())
    await asyncio.gather(*(work() for work in works))
    names = settings.topics
    assert followed[names.decisions] == ("one consumer", 7)
    # Signals still come a partition per consumer, at the followers' wait.
    assert followed[names.signals] == ("per partition", 500)
