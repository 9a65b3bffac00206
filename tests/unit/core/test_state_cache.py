"""The core's cache of decoded states (``native/src/live.rs``) stays within its budget,
however many entities come, and counts a decoded state at its size in memory."""

from __future__ import annotations

from riskstream.agents.cep.compiler import ACCOUNT_KEY
from tests.unit.factories import txn
from tests.unit.rules.harness import Runner, pack_rule

VELOCITY = pack_rule("velocity.account")
# The core's estimate of a decoded state's memory, per byte of its record (measured on a
# simulated day: 22-23).
MEMORY_PER_RECORD_BYTE = 24


def cache(runner: Runner) -> tuple[int, int, int, int]:
    return runner.live.snapshot(runner.rules).engine.cache_stats()


def test_the_cache_evicts_at_its_budget() -> None:
    budget = 64 * 1024
    runner = Runner(VELOCITY, cache_bytes=budget)
    for account in range(400):
        for i in range(5):
            runner.process(txn(f"a{account}-{i}", i * 10, account=f"acc-{account}"))
    _hits, _misses, states, size = cache(runner)
    assert 0 < size <= budget
    assert 0 < states < 400


def test_a_cached_state_is_counted_at_its_decoded_size() -> None:
    runner = Runner(VELOCITY, cache_bytes=1 << 20)
    for i in range(5):
        runner.process(txn(f"e{i}", i * 10))
    record = runner.record(ACCOUNT_KEY, "acc-1")
    assert record is not None
    *_, states, size = cache(runner)
    assert (states, size) == (1, len(record) * MEMORY_PER_RECORD_BYTE)


def test_a_state_bigger_than_the_budget_is_not_kept() -> None:
    runner = Runner(VELOCITY, cache_bytes=64)
    runner.process(txn("e0", 0))
    *_, states, size = cache(runner)
    assert (states, size) == (0, 0)


def test_a_kept_state_is_used_again() -> None:
    runner = Runner(VELOCITY, cache_bytes=1 << 20)
    for i in range(3):
        runner.process(txn(f"e{i}", i * 10))
    hits, misses, _states, _size = cache(runner)
    assert (hits, misses) == (2, 1)
