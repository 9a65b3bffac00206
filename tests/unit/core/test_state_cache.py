"""The core's cache of decoded states (``native/src/live.rs``) stays within its budget,
however many entities come, and counts a decoded state at its measured heap size."""

from __future__ import annotations

from riskstream.agents.cep.compiler import ACCOUNT_KEY
from tests.unit.factories import txn
from tests.unit.rules.harness import Runner, pack_rule

VELOCITY = pack_rule("velocity.account")


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


def test_a_cached_state_is_counted_at_its_heap_size() -> None:
    sizes = []
    for events in (1, 5):
        runner = Runner(VELOCITY, cache_bytes=1 << 20)
        for i in range(events):
            runner.process(txn(f"e{i}", i * 10))
        record = runner.record(ACCOUNT_KEY, "acc-1")
        assert record is not None
        *_, states, size = cache(runner)
        # Each entry holds its event's whole view: many times its bytes in the record.
        assert states == 1
        assert size > 10 * len(record)
        sizes.append(size)
    assert sizes[1] > sizes[0], "each event adds to the count"


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
