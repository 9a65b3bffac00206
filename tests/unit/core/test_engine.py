"""The live engine (:class:`~riskstream.core.LiveEngine`) event by event: firing,
duplicates (nothing again), lateness, records that outlive a rule set."""

from __future__ import annotations

from riskstream.agents.cep.compiler import ACCOUNT_KEY
from riskstream.streams.events import Feedback
from tests.unit.factories import account_event, at, txn
from tests.unit.rules.harness import Runner, fired, pack_rule, rules_from_yaml, run

VELOCITY = pack_rule("velocity.account")
TAKEOVER = pack_rule("account_takeover")
RULE = """
- id: test.count
  version: {version}
  description: test
  events: [payment]
  window: {{type: sliding, size: 10m}}
  aggregates: {{n: {{fn: count}}}}
  condition: agg.n > {limit}
  severity: 50
"""


def test_velocity_fires_once_per_burst() -> None:
    signals = run(VELOCITY, [txn(f"e{i}", i * 10) for i in range(15)])
    assert len(signals) == 1
    assert signals[0].aggregates["n"] == 11
    assert signals[0].trigger_event_id == "e10"
    assert signals[0].evidence == tuple(f"e{i}" for i in range(11))


def test_velocity_negatives() -> None:
    assert run(VELOCITY, [txn(f"e{i}", i * 10) for i in range(10)]) == []
    assert run(VELOCITY, [txn(f"e{i}", i * 61) for i in range(20)]) == []
    incoming = [txn(f"e{i}", i, type="top_up") for i in range(20)]
    assert run(VELOCITY, incoming) == []


def test_velocity_sum_ignores_failed_money() -> None:
    events = [txn("a", 0, 3000), txn("f", 10, 3000, status="failed"), txn("b", 20, 1999)]
    assert run(VELOCITY, events) == []
    signals = run(VELOCITY, [*events, txn("c", 30, 2)])
    assert len(signals) == 1
    assert signals[0].aggregates["total"] == "5001"


def test_out_of_order_within_lateness_counts() -> None:
    events = [txn("e10", 100), *[txn(f"e{i}", i * 9) for i in range(10)]]
    signals = run(VELOCITY, events)
    assert len(signals) == 1
    assert set(signals[0].evidence) == {*(f"e{i}" for i in range(10)), "e10"}


def test_a_duplicate_changes_nothing_and_publishes_nothing_again() -> None:
    events = [txn(f"e{i}", i) for i in range(11)]
    runner = Runner(VELOCITY)
    signals = [s for event in events for s in runner.signals(event)]
    assert len(signals) == 1
    before = runner.record(ACCOUNT_KEY, "acc-1")
    again = runner.process(events[10])
    assert again[0].status == "duplicate"
    assert again[0].signals == []  # published when e10 was applied
    assert runner.process(events[3])[0].signals == []
    assert runner.record(ACCOUNT_KEY, "acc-1") == before


def test_too_old_events_are_late() -> None:
    runner = Runner(VELOCITY)
    runner.process(txn("new", 100_000))
    assert runner.process(txn("old", 100))[0].status == "late"


def test_takeover_in_either_order_gives_the_same_signal_id() -> None:
    change, cash = account_event("pw", 0), txn("w", 600, 800, type="withdrawal")
    first = run(TAKEOVER, [change, cash])
    second = run(TAKEOVER, [cash, change])
    assert [s.signal_id for s in first] == [s.signal_id for s in second]
    assert first[0].evidence == ("pw", "w")


def test_takeover_negatives() -> None:
    cases = [
        [account_event("pw", 0), txn("w", 1801, 800, type="withdrawal")],
        [account_event("pw", 0), txn("w", 60, 500, type="withdrawal")],
        [account_event("pw", 0), txn("w", 60, 800, type="withdrawal", status="failed")],
        [account_event("pw", 0), txn("w", 60, 800, type="payment")],
        [account_event("li", 0, "login"), txn("w", 60, 800, type="withdrawal")],
        [txn("w", 0, 800, type="withdrawal"), account_event("pw", 60)],
    ]
    for events in cases:
        assert run(TAKEOVER, events) == [], events


def test_a_record_read_back_continues_as_the_cached_state() -> None:
    """Decoding every record (no cache) and keeping decoded states give the same records
    and the same signals."""
    events = [txn(f"e{i}", i) for i in range(8)] + [txn(f"m{i}", 10 + i) for i in range(4)]
    decoded, cached = Runner(VELOCITY, cache_bytes=0), Runner(VELOCITY, cache_bytes=1 << 20)
    a = [decoded.signals(event) for event in events]
    b = [cached.signals(event) for event in events]
    assert a == b
    assert sum(len(x) for x in a) == 1
    assert decoded.records == cached.records


def test_a_new_rule_version_rereads_history() -> None:
    loose = rules_from_yaml(RULE.format(limit=100, version=1))
    strict = rules_from_yaml(RULE.format(limit=3, version=2))
    runner = Runner(loose)
    assert [s for i in range(3) for s in runner.signals(txn(f"e{i}", i))] == []
    runner.rules = strict
    signals = runner.signals(txn("e3", 3))
    assert [s.aggregates["n"] for s in signals] == [4]
    assert signals[0].rule_version == 2


def test_shadow_rules_are_evaluated_but_not_published() -> None:
    shadow = rules_from_yaml(RULE.format(limit=3, version=1) + "  mode: shadow\n")
    runner = Runner(shadow)
    outcomes = [o for i in range(5) for o in runner.process(txn(f"e{i}", i))]
    assert [s for o in outcomes for s in o.signals] == []
    assert len([s for o in outcomes for s in o.shadow]) == 1


def test_fired_helper_filters_by_rule() -> None:
    both = rules_from_yaml(RULE.format(limit=2, version=1))
    assert len(fired(both, [txn(f"e{i}", i) for i in range(4)], "test.count")) == 1


def test_whole_money_amounts_are_plain_decimal_text() -> None:
    signals = run(VELOCITY, [txn("a", 0, "3000"), txn("b", 1, "2000"), txn("c", 2, "1000")])
    assert signals[0].aggregates["total"] == "6000"


def test_an_event_too_late_for_its_account_still_reaches_other_keys() -> None:
    feedback = [
        Feedback.model_validate(
            {"event_id": f"f{i}", "type": "feedback", "target_event_id": "p", "label": "fraud",
             "occurred_at": at(7200 + i), "account_id": "acc-1", "counterparty_id": "m-1"}
        )
        for i in range(3)
    ]  # fmt: skip
    sale = txn("p", 0, "80", counterparty_id="m-1")
    assert len(run(pack_rule("merchant.fraud_rate"), [*feedback, sale])) == 1


def test_a_deleted_rule_leaves_nothing_behind_in_the_record() -> None:
    both = rules_from_yaml(RULE.format(limit=100, version=1))
    velocity = VELOCITY.rules["velocity.account"].doc
    runner = Runner(both.with_doc(velocity))
    for i in range(5):
        runner.process(txn(f"e{i}", i))
    with_both = runner.record(ACCOUNT_KEY, "acc-1")
    runner.rules = both.without("test.count").with_doc(velocity)
    runner.process(txn("after", 10))
    alone = Runner(VELOCITY)
    for i in [*range(5)]:
        alone.process(txn(f"e{i}", i))
    alone.process(txn("after", 10))
    # The record holds what the velocity rule alone would have left: no trace of the other.
    assert runner.record(ACCOUNT_KEY, "acc-1") == alone.record(ACCOUNT_KEY, "acc-1")
    assert with_both != runner.record(ACCOUNT_KEY, "acc-1")
    runner.rules = both.without("test.count")  # no rule on accounts at all
    runner.process(txn("last", 11))
    empty = runner.record(ACCOUNT_KEY, "acc-1")
    assert empty is not None and len(empty) < len(alone.record(ACCOUNT_KEY, "acc-1") or b"")
    assert runner.process(txn("after", 10))[0].status == "duplicate"  # ids still known


def test_a_rule_can_impose_a_penalty_through_its_signal() -> None:
    strict = rules_from_yaml(RULE.format(limit=2, version=1) + "  penalty: step_up\n")
    signals = run(strict, [txn(f"e{i}", i) for i in range(3)])
    assert [s.model_dump(mode="json").get("penalty") for s in signals] == [{"kind": "step_up"}]
    plain = run(
        rules_from_yaml(RULE.format(limit=2, version=1)), [txn(f"e{i}", i) for i in range(3)]
    )
    assert "penalty" not in plain[0].model_dump(mode="json")
