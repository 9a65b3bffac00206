from __future__ import annotations

from riskstream.agents.breaker import SignalBreaker


def test_a_rule_past_its_rate_is_cut_off_until_the_next_second() -> None:
    now = [100.2]
    breaker = SignalBreaker(3, clock=lambda: now[0])
    assert [breaker.allows("wild") for _ in range(5)] == [True, True, True, False, False]
    assert breaker.allows("calm"), "each rule has a rate of its own"
    assert breaker.dropped == {"wild": 2}
    now[0] = 101.0
    assert breaker.allows("wild")
    assert breaker.dropped == {"wild": 2}
