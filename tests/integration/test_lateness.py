"""A topic read first must not make another topic's events late (issue 16, deliverable 1).

Replay reads the events in event-time order. The worker reads the input topics at their
own pace, and holds each event until every input that is not idle has passed it
(``agents/event_time.py``). Feedback dated 33 hours after three top-ups of 9,500, read
before them, once put the top-ups behind the 24-hour structuring window plus the
10-minute lateness: counted late, structuring did not fire. Eight events: that story on
one account, and the same story read in event-time order on another.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from riskstream.simulation.event import SimEvent
from riskstream.streams.codec import loads
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import expected_signals, send, wait_for_signals

pytestmark = pytest.mark.integration

IN_ORDER = "acct-late-in-order"
FEEDBACK_FIRST = "acct-late-feedback-first"


def structuring_story(account: str, start: datetime) -> tuple[list[SimEvent], SimEvent]:
    """Three top-ups of 9,500 an hour apart, and an analyst's fraud verdict on the first
    of them 33 hours after it."""
    top_ups = [
        SimEvent(
            "transaction",
            {
                "event_id": f"{account}-top-up-{number}",
                "type": "top_up",
                "occurred_at": start + timedelta(hours=number),
                "account_id": account,
                "amount": "9500.00",
                "currency": "CNY",
                "status": "succeeded",
            },
        )
        for number in range(3)
    ]
    feedback = SimEvent(
        "feedback",
        {
            "event_id": f"{account}-feedback",
            "type": "feedback",
            "occurred_at": start + timedelta(hours=33),
            "account_id": account,
            "target_event_id": top_ups[0].payload["event_id"],
            "label": "fraud",
            "source": "analyst",
        },
    )
    return top_ups, feedback


def story(account: str, start: datetime) -> list[SimEvent]:
    top_ups, feedback = structuring_story(account, start)
    return [*top_ups, feedback]


def test_replay_fires_structuring_on_both_accounts() -> None:
    """The premise of the test below: the oracle detects both stories."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=40)
    events = [*story(IN_ORDER, start), *story(FEEDBACK_FIRST, start)]
    fired = {
        body["entity_id"]
        for body in expected_signals(events).values()
        if body["rule_id"] == "structuring"
    }
    assert fired == {IN_ORDER, FEEDBACK_FIRST}


def read_by_worker(worker: Worker, count: int, timeout_s: float = 60.0) -> dict[str, int]:
    """Until ``count`` events are applied or counted late."""
    deadline = time.monotonic() + timeout_s
    while (stats := worker.stats())["applied"] + stats["late"] < count:
        if time.monotonic() > deadline:
            pytest.fail(f"the worker did not read the {count} events: {stats}")
        time.sleep(0.2)
    return stats


def test_feedback_read_first_does_not_make_earlier_top_ups_late(
    sandbox: Sandbox, worker: Worker
) -> None:
    settings = sandbox.settings
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=40)
    in_order = story(IN_ORDER, start)
    top_ups, feedback = structuring_story(FEEDBACK_FIRST, start)
    expected = expected_signals([*in_order, *top_ups, feedback])

    # The top-ups' topic has told nothing when the feedback comes: it holds the feedback
    # back until it does, unless it is idle that long (the default 1 s is too tight for
    # a loaded test machine between the two sends below).
    sandbox.env["RISKSTREAM_IDLE_SOURCE_S"] = "10"
    worker.start()
    send(settings, [feedback])
    worker.wait_for("received", 1)
    assert worker.stats()["applied"] == 0  # held: the top-ups' topic may still have older
    send(settings, [*in_order, *top_ups])
    stats = read_by_worker(worker, len(in_order) + len(top_ups) + 1)
    control = {key for key, body in expected.items() if body["entity_id"] == IN_ORDER}
    records = wait_for_signals(settings, control, timeout_s=60)
    published = {loads(record.value)["signal_id"]: loads(record.value) for record in records}
    if not control <= published.keys():
        pytest.fail(f"the in-order account fired nothing; published: {published}")

    missing = [body["rule_id"] for key, body in expected.items() if key not in published]
    assert published == expected, f"{stats['late']} late; missing on {FEEDBACK_FIRST}: {missing}"
