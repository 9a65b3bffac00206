"""An account's outgoing total per UTC day, kept by the core in the account's record
(``LiveEngine.spent_on``): the scorer's daily limits read it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from riskstream.agents.cep.compiler import ACCOUNT_KEY
from riskstream.rules.loader import default_ruleset
from riskstream.streams.events import to_epoch_ms
from tests.unit.factories import T0, txn
from tests.unit.rules.harness import Runner

DAY_S = 86_400
DAY_MS = DAY_S * 1000
NOW = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)
NOW_MS = to_epoch_ms(NOW)
BEFORE = (NOW - T0).total_seconds()  # ``txn``'s seconds of NOW


def spent_on(runner: Runner, now_ms: int) -> Decimal:
    record = runner.record(ACCOUNT_KEY, "acc-1")
    engine = runner.live.snapshot(runner.rules).engine
    return Decimal(engine.spent_on(record, now_ms))


def test_spent_on_counts_the_utc_day_of_now() -> None:
    runner = Runner(default_ruleset())
    runner.process(txn("yesterday", BEFORE - DAY_S, "5"))
    runner.process(txn("a", BEFORE - 60, "10.50"))
    runner.process(txn("b", BEFORE, "2"))
    runner.process(txn("in", BEFORE - 30, "100", type="top_up"))  # incoming: not spent
    runner.process(txn("f", BEFORE - 20, "100", status="failed"))  # money that did not move
    assert spent_on(runner, NOW_MS) == Decimal("12.50")
    assert spent_on(runner, NOW_MS - DAY_MS) == Decimal("5")
    assert spent_on(runner, NOW_MS + 60_000) == Decimal(0)  # the next day
    engine = runner.live.snapshot(runner.rules).engine
    assert Decimal(engine.spent_on(None, NOW_MS)) == Decimal(0)


def test_only_the_last_two_days_are_kept_in_exact_decimals() -> None:
    runner = Runner(default_ruleset())
    for days_ago in (5, 2, 1, 0):
        runner.process(txn(f"p{days_ago}", BEFORE - days_ago * DAY_S, "0.10"))
    runner.process(txn("q", BEFORE - 1, "0.20"))
    assert spent_on(runner, NOW_MS) == Decimal("0.3")  # exact decimals, never floats
    assert spent_on(runner, NOW_MS - DAY_MS) == Decimal("0.10")
    assert spent_on(runner, NOW_MS - 2 * DAY_MS) == Decimal(0)  # older days are dropped
