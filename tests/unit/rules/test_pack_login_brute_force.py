"""login.brute_force: a run of failed logins, then a successful one."""

from __future__ import annotations

import random

from riskstream.streams.events import AccountEvent
from tests.unit.factories import account_event
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("login.brute_force")


def failures(count: int = 5, *, spacing: float = 60, start: float = 0) -> list[AccountEvent]:
    return [account_event(f"f{i}", start + i * spacing, "login_failed") for i in range(count)]


def success(seconds: float = 600, account: str = "acc-1") -> AccountEvent:
    return account_event("ok", seconds, "login", account=account)


def test_five_failures_then_a_success_fire() -> None:
    signals = run(RULE, [*failures(), success()])
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("account", "acc-1")
    assert signal.evidence == ("f0", "f1", "f2", "f3", "f4", "ok")
    assert signal.aggregates == {"failures": 5, "success": 1, "span_seconds": 600.0}


def test_a_longer_run_fires_once() -> None:
    events = [*failures(12, spacing=30), success(400), success(500).model_copy(
        update={"event_id": "ok2"})]  # fmt: skip
    assert len(run(RULE, events)) == 1


def test_near_misses() -> None:
    cases = {
        "four failures (a forgetful customer)": [*failures(4), success()],
        "slower than 20 minutes in all": [*failures(5, spacing=240), success(1201)],
        "success first": [success(0), *failures(start=30)],
        "no success": failures(10),
        "failures on other accounts": [
            *[account_event(f"x{i}", i, "login_failed", account=f"acc-{i + 2}")
              for i in range(5)],
            success()],
        "password change is not a login": [
            *failures(), account_event("pw", 600, "password_change")],
    }  # fmt: skip
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_arrival_order_does_not_matter() -> None:
    events = [*failures(), success()]
    expected = run(RULE, events)
    for seed in range(4):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert [s.signal_id for s in run(RULE, shuffled)] == [expected[0].signal_id]
