"""Replay: the core's engine and scorer offline, in event-time order, deterministic."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from riskstream.agents.cep.compiler import RuleError
from riskstream.agents.validation import parse_event
from riskstream.offline.run import ReplayOutputs, replay_file
from riskstream.rules.loader import default_ruleset
from riskstream.streams.codec import dumps
from riskstream.streams.events import Event, Feedback
from riskstream.streams.redaction import tokeniser_for
from riskstream.streams.settings import get_settings
from tests.unit.factories import account_event, at, txn
from tests.unit.rules.harness import Runner


def burst(count: int = 14, account: str = "acc-1") -> list[Event]:
    return [txn(f"{account}-p{n}", n * 5, "20", account=account) for n in range(count)]


def write_events(path: Path, events: list[Event], extra_lines: list[bytes] = ()) -> Path:  # type: ignore[assignment]
    path.write_bytes(b"".join(dumps(event) + b"\n" for event in events) + b"".join(extra_lines))
    return path


def lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_a_transaction_is_scored_on_what_was_known_and_what_it_fires(tmp_path: Path) -> None:
    events = burst()
    outputs = ReplayOutputs(tmp_path / "signals.jsonl", tmp_path / "decisions.jsonl")
    stats, bad = replay_file(write_events(tmp_path / "events.jsonl", events), outputs)
    assert bad == []
    signals = lines(tmp_path / "signals.jsonl")
    assert [s["rule_id"] for s in signals] == ["velocity.account"]
    assert signals[0]["trigger_event_id"] == "acc-1-p10"  # the 11th payment fires
    decisions = {d["event_id"]: d for d in lines(tmp_path / "decisions.jsonl")}
    assert len(decisions) == len(events) == stats.transactions
    # Before the burst is complete nothing is known ...
    assert decisions["acc-1-p9"] == {
        "event_id": "acc-1-p9", "score": 0, "decision": "accept", "reasons": []
    }  # fmt: skip
    # ... the payment that completes it is judged with the signal it fires itself, and
    # the next one with the signal published by then: the same signal, the same answer.
    reasons = [
        {
            "code": "SIGNAL",
            "detail": "velocity.account on account",
            "signal_id": signals[0]["signal_id"],
            "rule_id": "velocity.account",
        }
    ]
    # velocity.account is a score-effect rule: alone its 60 stays below review.
    for event_id in ("acc-1-p10", "acc-1-p11"):
        decision = decisions[event_id]
        assert (decision["score"], decision["decision"]) == (39, "accept")
        assert decision["reasons"] == reasons


def verdict(event_id: str, seconds: float, target: str, label: str) -> Event:
    return Feedback.model_validate({
        "event_id": event_id, "type": "feedback", "occurred_at": at(seconds),
        "account_id": "acc-1", "target_event_id": target, "label": label,
    })  # fmt: skip


def test_a_legit_verdict_on_the_trigger_clears_the_alert_and_a_fraud_one_restores_it(
    tmp_path: Path,
) -> None:
    events = [
        *burst(),  # fires velocity.account at acc-1-p10; p11 .. p13 see it (39: score effect)
        verdict("fb-1", 100, "acc-1-p10", "legit"),  # the customer: "that was me"
        txn("after-legit", 110, "20"),
        txn("other-burst-target", 115, "20"),
        verdict("fb-2", 120, "acc-1-p3", "legit"),  # not a trigger: changes nothing
        txn("after-other", 125, "20"),
        verdict("fb-3", 130, "acc-1-p10", "fraud"),  # on second thought: fraud
        txn("after-fraud", 140, "20"),
    ]
    outputs = ReplayOutputs(tmp_path / "signals.jsonl", tmp_path / "decisions.jsonl")
    replay_file(write_events(tmp_path / "events.jsonl", events), outputs)
    decisions = {d["event_id"]: d for d in lines(tmp_path / "decisions.jsonl")}
    assert decisions["acc-1-p13"]["score"] == 39
    for cleared in ("after-legit", "after-other"):
        assert decisions[cleared]["score"] == 0, decisions[cleared]
    assert decisions["after-fraud"]["score"] == 39
    # The signals themselves are facts about the stream: still published, once.
    assert [s["rule_id"] for s in lines(tmp_path / "signals.jsonl")] == ["velocity.account"]


def test_only_the_account_s_rules_are_tried_on_the_transaction(tmp_path: Path) -> None:
    """The scorer holds the account's state, not the device's: a device burst counts
    in a decision once its signal is published, from the next transaction on."""
    events = [
        txn(f"d-{n}", n * 5, "20", account=f"acc-{n}", device_id="dev-shared") for n in range(40)
    ]
    outputs = ReplayOutputs(tmp_path / "signals.jsonl", tmp_path / "decisions.jsonl")
    replay_file(write_events(tmp_path / "events.jsonl", events), outputs)
    (signal,) = [s for s in lines(tmp_path / "signals.jsonl") if s["rule_id"] == "velocity.device"]
    decisions = {d["event_id"]: d for d in lines(tmp_path / "decisions.jsonl")}
    trigger = str(signal["trigger_event_id"])
    following = f"d-{int(trigger.split('-')[1]) + 1}"
    assert "velocity.device" not in {r["rule_id"] for r in decisions[trigger]["reasons"]}
    assert "velocity.device" in {r["rule_id"] for r in decisions[following]["reasons"]}


def test_invalid_lines_are_reported_by_number_and_skipped(tmp_path: Path) -> None:
    path = write_events(
        tmp_path / "events.jsonl",
        burst(3),
        [b"{not json\n", b"\n", b'{"type": "payment", "event_id": "x"}\n', b'{"type": "nope"}\n'],
    )
    stats, bad = replay_file(path, ReplayOutputs())
    assert stats.events == 3
    assert [(line.line, line.reason) for line in bad] == [
        (4, "not_json"),
        (6, "invalid"),
        (7, "unknown_type"),
    ]
    assert "occurred_at" in bad[1].detail and "amount" in bad[1].detail


def test_replay_is_byte_identical_and_order_of_the_file_does_not_matter(tmp_path: Path) -> None:
    events = [*burst(14, "acc-1"), *burst(12, "acc-2"), account_event("pw", 30, account="acc-2")]
    shuffled = events[:]
    random.Random(3).shuffle(shuffled)
    outputs = []
    for name, order in (("a", events), ("b", events), ("c", shuffled)):
        out = ReplayOutputs(tmp_path / f"{name}-s.jsonl", tmp_path / f"{name}-d.jsonl")
        replay_file(write_events(tmp_path / f"{name}.jsonl", order), out)
        assert out.signals and out.decisions
        outputs.append((out.signals.read_bytes(), out.decisions.read_bytes()))
    assert outputs[0] == outputs[1]
    # Event-time order whatever the file's order (ties between accounts keep file order).
    assert sorted(outputs[0][0].splitlines()) == sorted(outputs[2][0].splitlines())
    assert sorted(outputs[0][1].splitlines()) == sorted(outputs[2][1].splitlines())
    assert outputs[0][0].count(b"\n") == 2


def test_replay_signals_are_the_live_engine_s_signals(tmp_path: Path) -> None:
    """The replay (``Replay``) and the worker's engine (``LiveEngine``, event by event in
    time order) fire the same signals."""
    events = [*burst(14, "acc-1"), *burst(30, "acc-3")]
    path = write_events(tmp_path / "events.jsonl", events)
    runner = Runner(default_ruleset())
    ordered = sorted(events, key=lambda event: event.occurred_ms)  # ties: the file's order
    expected = [s.signal_id for event in ordered for s in runner.signals(event)]
    out = ReplayOutputs(tmp_path / "s.jsonl")
    replay_file(path, out)
    assert [s["signal_id"] for s in lines(tmp_path / "s.jsonl")] == expected
    assert len(expected) == 2


def test_a_repeated_transaction_gets_the_same_decision_and_no_new_signal(tmp_path: Path) -> None:
    events = burst(12)
    path = write_events(tmp_path / "events.jsonl", [*events, events[10], events[11]])
    out = ReplayOutputs(tmp_path / "s.jsonl", tmp_path / "d.jsonl")
    stats, _ = replay_file(path, out)
    assert stats.statuses["duplicate"] == 2
    decisions = [d for d in lines(tmp_path / "d.jsonl") if d["event_id"] == "acc-1-p11"]
    assert len(decisions) == 2 and decisions[0] == decisions[1]
    assert len(lines(tmp_path / "s.jsonl")) == 1


def test_rules_from_a_directory_replace_the_pack(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "burst.yaml").write_text(
        "id: test.burst\nversion: 1\ndescription: More than 3 payments in 10 minutes.\n"
        "events: [payment]\nwindow: {type: sliding, size: 10m}\n"
        "aggregates: {n: {fn: count}}\ncondition: agg.n > 3\nseverity: 30\n"
        "mode: shadow\n"
    )
    path = write_events(tmp_path / "events.jsonl", burst(14))
    out = ReplayOutputs(tmp_path / "s.jsonl", tmp_path / "d.jsonl", tmp_path / "shadow.jsonl")
    stats, _ = replay_file(path, out, rules=rules)
    assert lines(tmp_path / "s.jsonl") == []  # shadow: evaluated, not published
    assert [s["rule_id"] for s in lines(tmp_path / "shadow.jsonl")] == ["test.burst"]
    assert stats.shadow_by_rule == {"test.burst": 1}
    (rules / "bad.yaml").write_text("id: test.bad\nversion: 1\ncondition: agg.n >\n")
    with pytest.raises(RuleError, match=r"bad\.yaml"):
        replay_file(path, out, rules=rules)


def test_rules_the_core_cannot_run_are_refused_before_the_replay(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mean.yaml").write_text(
        "id: test.mean\nversion: 1\ndescription: A mean the core does not run.\n"
        "events: [payment]\nwindow: {type: sliding, size: 10m}\n"
        "aggregates: {avg: {fn: mean, field: amount}}\ncondition: agg.avg > 3.0\nseverity: 30\n"
    )
    path = write_events(tmp_path / "events.jsonl", burst(3))
    out = ReplayOutputs(tmp_path / "s.jsonl")
    with pytest.raises(RuleError, match=r"the core cannot run these rules: .*mean"):
        replay_file(path, out, rules=rules)
    assert not (tmp_path / "s.jsonl").exists()


PAN = "4111111111111111"


def test_a_card_number_is_replayed_as_the_token_live_makes_of_it(tmp_path: Path) -> None:
    # Live ingest tokenises before anything reads the event; so does the replay, under
    # the same configured secret: the same entity ids and signals, no card in the clear.
    events = [
        txn(f"card-p{n}", n * 5, "20", account=PAN, instrument_id="4111 1111 1111 1111")
        for n in range(14)
    ]
    outputs = ReplayOutputs(tmp_path / "signals.jsonl", tmp_path / "decisions.jsonl")
    stats, bad = replay_file(write_events(tmp_path / "events.jsonl", events), outputs)
    assert (bad, stats.transactions) == ([], len(events))
    written = b"".join(path.read_bytes() for path in (outputs.signals, outputs.decisions) if path)
    assert PAN.encode() not in written and b"4111 1111" not in written
    tokeniser = tokeniser_for(get_settings())
    live = Runner(default_ruleset())
    expected = [
        signal
        for event in events
        for signal in live.signals(
            parse_event(dumps(event), max_bytes=1 << 20, redact=tokeniser.tokenise)
        )
    ]
    signals = lines(tmp_path / "signals.jsonl")
    assert signals, "the burst fires"
    assert tokeniser.lookup_id(PAN) in {signal["entity_id"] for signal in signals}
    assert [s["signal_id"] for s in signals] == [s.signal_id for s in expected]
    assert [s["entity_id"] for s in signals] == [s.entity_id for s in expected]
