"""login.credential_stuffing: one address failing on many different accounts."""

from __future__ import annotations

import random

from riskstream.streams.events import AccountEvent
from tests.unit.factories import account_event
from tests.unit.rules.harness import pack_rule, run

RULE = pack_rule("login.credential_stuffing")
PROXY = "203.0.113.7"


def attempt(
    number: int, seconds: float, *, ip: str | None = PROXY, type: str = "login_failed",
    account: str | None = None, device: str = "dev-script",
) -> AccountEvent:  # fmt: skip
    event = account_event(f"a{number}", seconds, type, account=account or f"acc-{number}")
    return event.model_copy(update={"ip": ip, "device_id": device})


def sweep(accounts: int, spacing: float = 30, **fields: object) -> list[AccountEvent]:
    return [attempt(n, n * spacing, **fields) for n in range(accounts)]  # type: ignore[arg-type]


def test_ten_accounts_failing_from_one_address_fire_on_the_address() -> None:
    signals = run(RULE, sweep(10))
    assert len(signals) == 1
    (signal,) = signals
    assert (signal.entity_type, signal.entity_id) == ("ip", PROXY)
    assert signal.evidence == tuple(f"a{n}" for n in range(10))
    assert signal.aggregates == {"failures": 10, "accounts": 10, "devices": 1}
    assert signal.severity == 45


def test_a_longer_sweep_fires_once_per_window() -> None:
    assert len(run(RULE, sweep(25, spacing=10))) == 1


def test_near_misses() -> None:
    cases = {
        "nine accounts": sweep(9),
        "ten accounts over more than ten minutes": sweep(10, spacing=70),
        "one account failing many times (brute force, not stuffing)": [
            attempt(n, n * 20, account="acc-victim") for n in range(30)],
        "successful logins do not count": sweep(12, type="login"),
        "ten addresses, one failure each": [
            attempt(n, n * 30, ip=f"198.51.100.{n}") for n in range(10)],
        "no address": sweep(12, ip=None),
    }  # fmt: skip
    for name, events in cases.items():
        assert run(RULE, events) == [], name


def test_arrival_order_does_not_matter() -> None:
    events = sweep(10)
    expected = [signal.signal_id for signal in run(RULE, events)]
    assert len(expected) == 1
    for seed in range(4):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert [signal.signal_id for signal in run(RULE, shuffled)] == expected
