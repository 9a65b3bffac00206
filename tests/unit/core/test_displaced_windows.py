"""Events out of order, or at the time of the last one, under sliding windows of counts,
sums and distinct counts: the core takes their windows from the running window (``displaced`` in
native/src/windows/mod.rs) instead of reading every member. A `max` aggregate cannot be
taken back out of a window, so the same rule with one added reads every member: both
must give the same signals, event by event."""

from __future__ import annotations

import random

import pytest

from riskstream.streams.events import Event
from tests.unit.factories import txn
from tests.unit.rules.harness import Runner, rules_from_yaml

RULE = """
- id: test.burst
  version: 1
  description: test
  events: [payment]
  window: {{type: sliding, size: {size}}}
  aggregates:
    n: {{fn: count}}
    total: {{fn: sum, field: amount, where: 'event.status != "failed"'}}
    amounts: {{fn: distinct, field: amount}}
{extra}
  condition: agg.n >= {limit} && agg.total > {floor} && agg.amounts >= 2
  severity: 50
"""
READS_EVERY_MEMBER = "    top: {fn: max, field: amount}"


def stream(seed: int, count: int) -> list[Event]:
    """Payments of one account a few seconds apart, arriving up to `jitter` seconds out
    of order, with runs at one same time."""
    rng = random.Random(seed)
    events = []
    clock = 0.0
    for number in range(count):
        if rng.random() > 0.3:  # else: the same time as the one before
            clock += rng.choice([0.5, 1, 2, 5, 20, 90])
        amount = rng.choice([5, 50, 500, 1999])
        status = "failed" if rng.random() < 0.1 else "succeeded"
        payment = txn(f"e{number:04d}", clock, amount, status=status)
        events.append((clock + rng.uniform(0, 30), payment))
    events.sort(key=lambda pair: pair[0])  # arrival order: event time plus a delay
    return [event for _, event in events]


def outcomes(rule: str, events: list[Event]) -> list[list[tuple[object, ...]]]:
    # With a state cache, as the worker runs: running windows live in decoded states.
    runner = Runner(rules_from_yaml(rule), cache_bytes=1 << 24)
    found = []
    for event in events:
        signals = runner.signals(event)
        found.append(
            [
                (
                    s.signal_id,
                    s.evidence,
                    s.trigger_event_id,
                    {k: v for k, v in s.aggregates.items() if k != "top"},
                    s.detected_at,
                )
                for s in signals
            ]
        )
    return found


@pytest.mark.parametrize(
    ("seed", "size", "limit", "floor"),
    [
        (1, "1m", 3, 100),
        (2, "5m", 6, 1000),
        (3, "10m", 10, 2000),
        (4, "2m", 2, 0),
        (5, "30s", 2, 10),
    ],
)
def test_windows_from_the_running_window_are_the_windows_read_whole(
    seed: int, size: str, limit: int, floor: int
) -> None:
    events = stream(seed, 400)
    fast = outcomes(RULE.format(size=size, limit=limit, floor=floor, extra=""), events)
    whole = outcomes(
        RULE.format(size=size, limit=limit, floor=floor, extra=READS_EVERY_MEMBER), events
    )
    assert sum(map(len, whole)) >= 3, "the stream fires"
    assert fast == whole
