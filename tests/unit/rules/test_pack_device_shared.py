"""device.shared_accounts: one device used by many accounts in a day."""

from __future__ import annotations

import random

from riskstream.streams.events import AccountEvent
from tests.unit.factories import at, txn
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("device.shared_accounts")
HOUR = 3600


def login(event_id: str, seconds: float, account: str, *, device: str = "dev-1",
          type: str = "login") -> AccountEvent:  # fmt: skip
    return AccountEvent.model_validate(
        {"event_id": event_id, "type": type, "occurred_at": at(seconds),
         "account_id": account, "device_id": device}
    )  # fmt: skip


def test_five_accounts_on_one_device_in_a_day_fire() -> None:
    events = [
        login("l0", 0, "acc-0"),
        txn("t0", 60, "30", account="acc-0", device_id="dev-1"),
        login("l1", 2 * HOUR, "acc-1"),
        login("l2", 5 * HOUR, "acc-2", type="login_failed"),
        txn("t3", 9 * HOUR, "30", account="acc-3", device_id="dev-1"),
        login("l4", 23 * HOUR, "acc-4"),
    ]
    signals = run(RULE, events)
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("device", "dev-1")
    assert signal.aggregates == {"accounts": 5, "n": 6}
    assert signal.evidence == ("l0", "t0", "l1", "l2", "t3", "l4")


def test_near_misses() -> None:
    family = [login(f"f{i}", i * 600, f"acc-{i % 4}") for i in range(40)]
    cases = {
        "a family of four, all day": family,
        "five accounts over more than a day": [
            login(f"s{i}", i * 6 * HOUR + i, f"acc-{i}") for i in range(5)
        ],
        "five accounts on five devices": [
            login(f"d{i}", i, f"acc-{i}", device=f"dev-{i}") for i in range(5)
        ],
        "a shop terminal": [
            txn(f"p{i}", i * 60, "20", account=f"acc-{i}", device_id="dev-1", channel="pos")
            for i in range(10)
        ],
    }
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_arrival_order_does_not_matter() -> None:
    events = [login(f"l{i}", i * 60, f"acc-{i}") for i in range(5)]
    expected = run(RULE, events)
    assert len(expected) == 1
    for seed in range(4):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert [s.signal_id for s in run(RULE, shuffled)] == [expected[0].signal_id]
