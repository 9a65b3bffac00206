"""The scoring cases (``tests/conformance/engine/scoring.json``) through the live scorer.

``test_engine_cases`` replays every case through the core, whose scorer
(``native/src/scoring/``) is a copy of the live one; here the decisions of the same
cases come from the live scorer itself (``agents/scoring.gather`` and ``score`` over a
``ProfileBook``), fed as replay feeds its copy: events in event-time order; each
transaction decided with the signals known before it plus those it fires on its
account's rules, then its signals published and its amount added to the day's total;
each feedback event's verdict applied. The signals are the case's own (what detection
gave), so the two scorers are held to one file.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from riskstream.agents.cep.compiler import ACCOUNT_KEY
from riskstream.agents.scoring import DecisionPolicy, gather, is_spend, score
from riskstream.agents.validation import event_from_mapping
from riskstream.offline.rules import rule_center
from riskstream.streams.events import Feedback, Transaction
from riskstream.streams.outputs import Signal
from riskstream.tables.books import ActiveSignal, PenaltyBook, ProfileBook

from .test_engine_cases import rules_folder

FILE = Path(__file__).resolve().parents[2] / "conformance" / "engine" / "scoring.json"
DAY_MS = 86_400_000


def decisions_of(case: dict[str, Any], folder: Path) -> list[bytes]:
    center = rule_center(rules_folder(case, folder))
    policy = DecisionPolicy(**case["policy"]) if "policy" in case else DecisionPolicy()
    scoring = [rule for rule in center.score_rules.values()]
    account_rules = {rule.id for rule in center.ruleset.rules.values()
                     if rule.key.source == ACCOUNT_KEY}  # fmt: skip
    signals = [Signal.model_validate(item) for item in case.get("signals", [])]
    by_trigger: dict[str, list[Signal]] = {}
    for signal in signals:
        by_trigger.setdefault(signal.trigger_event_id, []).append(signal)
    events = [event_from_mapping(item) for item in case["events"]]
    order = sorted(range(len(events)), key=lambda index: (events[index].occurred_ms, index))
    book, penalties = ProfileBook(), PenaltyBook()
    spent: dict[tuple[str, int], Decimal] = {}
    decided: dict[str, bytes] = {}
    seen: set[str] = set()
    lines = []
    for index in order:
        event = events[index]
        if isinstance(event, Feedback):  # a verdict counts even in a repeated event
            book.apply_feedback(event)
        if event.event_id in seen:  # a duplicate: the answer the first one got, no more
            if event.event_id in decided:
                lines.append(decided[event.event_id])
            continue
        seen.add(event.event_id)
        fired = by_trigger.pop(event.event_id, [])
        if isinstance(event, Transaction):
            day = (event.account_id, event.occurred_ms // DAY_MS)
            own = [signal for signal in fired if signal.rule_id in account_rules]
            evidence = gather(
                event, book, penalties, event.occurred_at, spent.get(day, Decimal(0)), own
            )
            decision = score(evidence, scoring, policy, center.version)
            reasons = [reason.model_dump(exclude_none=True) for reason in decision.reasons]
            line = orjson.dumps({"event_id": event.event_id, "score": decision.score,
                                 "decision": decision.decision, "reasons": reasons})  # fmt: skip
            decided[event.event_id] = line
            lines.append(line)
            if is_spend(event):
                spent[day] = spent.get(day, Decimal(0)) + event.amount
        for signal in fired:
            book.add(signal.entity_type, signal.entity_id, ActiveSignal.of(signal))
    return lines


def load() -> list[Any]:
    cases = json.loads(FILE.read_text())["cases"]
    return [
        pytest.param(case, id=case["name"]) for case in cases if "pending" not in case
    ]  # fmt: skip


@pytest.mark.parametrize("case", load())
def test_live_scorer_decides_as_the_case(case: dict[str, Any], tmp_path: Path) -> None:
    want = [orjson.dumps(item) for item in case.get("decisions", [])]
    assert decisions_of(case, tmp_path) == want


def lines(path: Path) -> list[Any]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_live_scorer_decides_the_recorded_day_as_the_core(tmp_path: Path) -> None:
    """``tests/conformance/replay/``: a simulated day with every pattern of the shipped
    pack (score-effect rules among them), 1,154 decisions, the same bytes."""
    folder = FILE.parents[1] / "replay"
    case = {name: lines(folder / f"{name}.jsonl") for name in ("events", "signals")}
    want = (folder / "decisions.jsonl").read_bytes().splitlines()
    assert len(want) == 1154
    assert decisions_of(case, tmp_path) == want
