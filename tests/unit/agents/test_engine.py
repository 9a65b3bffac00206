from __future__ import annotations

from decimal import Decimal

from riskstream.agents.detectors.base import DetectorConfig
from riskstream.agents.engine import DetectionEngine
from riskstream.streams.codec import dumps, loads
from riskstream.tables.account_state import AccountState
from tests.unit.factories import account_event, txn

CONFIG = DetectorConfig(
    velocity_window_ms=600_000,
    velocity_max_count=5,
    velocity_max_amount=Decimal("1000"),
    ato_window_ms=1_800_000,
    ato_withdrawal_threshold=Decimal("500"),
    allowed_lateness_ms=300_000,
)


def run(events: list, state: AccountState | None = None) -> tuple[AccountState, list]:
    engine = DetectionEngine(CONFIG)
    state = state or AccountState()
    signals = []
    for event in events:
        signals.extend(engine.process(state, event).signals)
    return state, signals


def test_velocity_fires_once_per_burst_on_count() -> None:
    _, signals = run([txn(f"e{i}", i * 10) for i in range(9)])
    assert [s.pattern for s in signals] == ["velocity"]
    signal = signals[0]
    assert signal.aggregates["count"] == 6
    assert signal.evidence == tuple(f"e{i}" for i in range(6))
    assert signal.trigger_event_id == "e5"


def test_velocity_negative_exactly_at_the_limit_or_spread_out() -> None:
    assert run([txn(f"e{i}", i * 10) for i in range(5)])[1] == []
    # Six payments, but never more than five inside any 10-minute window.
    assert run([txn(f"e{i}", i * 121) for i in range(6)])[1] == []


def test_velocity_fires_on_amount_sum_and_ignores_failed_and_incoming() -> None:
    _, signals = run([txn("a", 0, 600), txn("b", 60, 300)])
    assert signals == []
    _, signals = run(
        [
            txn("a", 0, 600),
            txn("x", 30, 900, status="failed"),
            txn("t", 40, 900, type="top_up"),
            txn("b", 60, 500),
        ]
    )
    assert len(signals) == 1
    assert signals[0].aggregates["sum"] == "1100"
    assert set(signals[0].evidence) == {"a", "x", "b"}


def test_a_new_burst_after_the_window_fires_again() -> None:
    first = [txn(f"a{i}", i) for i in range(6)]
    second = [txn(f"b{i}", 3600 + i) for i in range(6)]
    _, signals = run(first + second)
    assert len(signals) == 2
    assert signals[0].signal_id != signals[1].signal_id


def test_out_of_order_events_within_lateness_count() -> None:
    events = [txn("e5", 50), *[txn(f"e{i}", i * 10) for i in range(5)]]
    _, signals = run(events)
    assert len(signals) == 1
    assert signals[0].trigger_event_id == "e4"


def test_too_late_events_are_counted_not_applied() -> None:
    engine = DetectionEngine(CONFIG)
    state = AccountState()
    engine.process(state, txn("new", 10_000))
    outcome = engine.process(state, txn("old", 10_000 - CONFIG.horizon_ms / 1000 - 1))
    assert outcome.status == "late"
    assert state.late_events == 1
    assert [entry.event_id for entry in state.txns] == ["new"]


def test_duplicate_changes_nothing_and_redelivers_its_signal() -> None:
    events = [txn(f"e{i}", i * 10) for i in range(6)]
    state, signals = run(events)
    before = dumps(state.to_wire())
    engine = DetectionEngine(CONFIG)
    outcome = engine.process(state, events[5])
    assert outcome.status == "duplicate"
    assert outcome.signals == signals
    assert engine.process(state, events[0]).signals == []
    assert dumps(state.to_wire()) == before


def test_signal_ids_are_deterministic_across_runs() -> None:
    events = [txn(f"e{i}", i * 10) for i in range(7)]
    assert [s.signal_id for s in run(events)[1]] == [s.signal_id for s in run(events)[1]]
    assert dumps(run(events)[1][0]) == dumps(run(events)[1][0])


def test_takeover_change_then_large_withdrawal() -> None:
    _, signals = run([account_event("pw", 0), txn("w", 600, 800, type="withdrawal")])
    assert [s.pattern for s in signals] == ["account_takeover"]
    assert signals[0].evidence == ("pw", "w")
    assert signals[0].severity == 85


def test_takeover_withdrawal_arriving_before_the_change_event() -> None:
    _, signals = run(
        [txn("w", 200, 800, type="withdrawal"), account_event("dev", 0, "device_bound")]
    )
    assert len(signals) == 1
    assert signals[0].trigger_event_id == "w"
    assert signals[0].evidence == ("dev", "w")


def test_takeover_negatives() -> None:
    cases = [
        [account_event("pw", 0), txn("w", 1801, 800, type="withdrawal")],  # too late
        [account_event("pw", 0), txn("w", 60, 500, type="withdrawal")],  # not above threshold
        [account_event("pw", 0), txn("w", 60, 800, type="withdrawal", status="failed")],
        [account_event("pw", 0), txn("w", 60, 800, type="payment")],
        [account_event("li", 0, "login"), txn("w", 60, 800, type="withdrawal")],
        [txn("w", 0, 800, type="withdrawal"), account_event("pw", 60)],  # change after
    ]
    for events in cases:
        assert run(events)[1] == [], events


def test_one_takeover_signal_per_withdrawal_whatever_the_arrival_order() -> None:
    change_a = account_event("dev", 0, "device_bound")
    change_b = account_event("pw", 30)
    cash_out = [txn("w1", 60, 800, type="withdrawal"), txn("w2", 120, 900, type="withdrawal")]
    in_order = [change_a, change_b, *cash_out]
    withdrawal_first = [change_a, *cash_out, change_b]
    for events in (in_order, withdrawal_first):
        takeovers = [s for s in run(events)[1] if s.pattern == "account_takeover"]
        assert sorted(s.trigger_event_id for s in takeovers) == ["w1", "w2"]
    ids = [sorted(s.signal_id for s in run(events)[1]) for events in (in_order, withdrawal_first)]
    assert ids[0] == ids[1]


def test_state_is_bounded_by_the_horizon() -> None:
    state, _ = run([txn(f"e{i}", i * 600) for i in range(50)])
    horizon_s = CONFIG.horizon_ms / 1000
    assert all(entry.ts_ms >= state.watermark_ms - CONFIG.horizon_ms for entry in state.txns)
    assert len(state.txns) <= horizon_s / 600 + 1
    assert len(state.seen) == len(state.txns)


def test_state_round_trips_through_the_codec() -> None:
    events = [account_event("pw", 0), *[txn(f"e{i}", i * 10, "99.99") for i in range(7)]]
    state, _ = run(events)
    restored = AccountState.from_wire(loads(dumps(state.to_wire())))
    assert restored == state
    # Processing continues identically on the restored copy.
    later = txn("late-w", 100, 900, type="withdrawal")
    assert run([later], state)[1] == run([later], restored)[1]


def test_cross_topic_skew_within_the_horizon_still_detects_takeover() -> None:
    # The transactions topic ran 20 minutes ahead of the account-events topic.
    events = [
        txn("w", 600, 800, type="withdrawal"),
        *[txn(f"later{i}", 600 + i * 100, 1) for i in range(12)],
        account_event("pw", 0),
    ]
    _, signals = run(events)
    assert [s.pattern for s in signals if s.pattern == "account_takeover"] == ["account_takeover"]
