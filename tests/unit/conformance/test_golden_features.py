"""The model's features of a recorded day, byte for byte, computed offline and live.

``tests/conformance/features/features.tsv``: one line per transaction of the recorded
simulated day (``tests/conformance/replay/events.jsonl``, the core replay's golden day),
its event id and its feature row (``model_features.rows_text``), as the offline scoring
pass computes them with the shipped rules. Two tests hold it:

- the offline pass (``offline/scoring_pass.py``, beside the core's replay) gives these
  bytes;
- the live path gives the same rows: a ``ProfileBook`` fed the recorded signals
  (``tests/conformance/replay/signals.jsonl``) through ``apply_record`` as a worker reads
  the signals topic, each once the event that fired it was applied, the transaction's own
  signals on its account's rules as the what-if hands them to ``gather``, the day's
  outgoing total kept as the engine keeps it, and the long-horizon profiles of the
  snapshot in force (each hour's, the default ``RISKSTREAM_PROFILES_PERIOD_MINUTES``, as
  ``tables/history_replay`` takes them).

Regenerate (on purpose, explained in the commit) with
``RISKSTREAM_REGOLD=1 pytest tests/unit/conformance/test_golden_features.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import orjson

from riskstream.agents.model_features import FEATURES, feature_row, rows_text
from riskstream.agents.scoring import gather, is_spend
from riskstream.agents.validation import parse_event
from riskstream.offline.jsonl import MAX_LINE_BYTES, read_lines
from riskstream.offline.rules import rule_center
from riskstream.offline.scoring_pass import ScoringPass
from riskstream.streams.events import Feedback, Transaction
from riskstream.streams.outputs import Signal
from riskstream.streams.redaction import Tokeniser, token_key
from riskstream.streams.settings import get_settings
from riskstream.tables.books import PenaltyBook, ProfileBook
from riskstream.tables.history_replay import ReplayHistory

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance"
EVENTS = CONFORMANCE / "replay" / "events.jsonl"
SIGNALS = CONFORMANCE / "replay" / "signals.jsonl"
GOLDEN = CONFORMANCE / "features" / "features.tsv"


def offline_rows() -> str:
    scoring = ScoringPass(rule_center())
    assert scoring.load(EVENTS) == []
    return rows_text((s.transaction.event_id, feature_row(s.evidence)) for s in scoring.run())


def test_the_offline_pass_gives_the_recorded_rows() -> None:
    got = offline_rows()
    if os.environ.get("RISKSTREAM_REGOLD"):
        GOLDEN.write_text(f"event_id\t{' '.join(FEATURES)}\n{got}")
    want = GOLDEN.read_text().split("\n", 1)
    assert want[0] == f"event_id\t{' '.join(FEATURES)}", "the features changed: regold"
    assert got == want[1]
    assert got.count("\n") == 1154


@dataclass(frozen=True)
class Record:
    value: bytes


def test_the_live_path_gives_the_same_rows() -> None:
    tokenise = Tokeniser(token_key(get_settings())).tokenise
    events = sorted(
        (
            (event.occurred_ms, event.event_id, line, event)
            for line, raw in read_lines(EVENTS)
            for event in [parse_event(raw, max_bytes=MAX_LINE_BYTES, redact=tokenise)]
        ),
        key=lambda item: item[:3],
    )
    fired: dict[str, list[bytes]] = {}
    for _, raw in read_lines(SIGNALS):
        fired.setdefault(orjson.loads(raw)["trigger_event_id"], []).append(raw)
    account_rules = {rule_id for rule_id, rule in rule_center().ruleset.rules.items()
                     if rule.doc.key == "event.account_id"}  # fmt: skip
    book, penalties = ProfileBook(), PenaltyBook()
    spent: dict[tuple[str, int], Decimal] = {}
    seen: set[str] = set()
    rows = []
    history = ReplayHistory()  # the profiles in force: a worker's newest snapshot
    for _, _, _, event in events:
        snapshot = history.observe(event)
        first = event.event_id not in seen
        seen.add(event.event_id)
        mine = fired.pop(event.event_id, []) if first else []
        if isinstance(event, Transaction) and first:
            day = (event.account_id, event.occurred_ms // 86_400_000)
            own = [Signal.model_validate(orjson.loads(raw)) for raw in mine]
            own = [signal for signal in own if signal.rule_id in account_rules]
            spent_today = spent.get(day, Decimal(0))
            evidence = gather(
                event, book, penalties, event.occurred_at, spent_today, own, history=snapshot
            )
            rows.append((event.event_id, feature_row(evidence)))
            if is_spend(event):
                spent[day] = spent.get(day, Decimal(0)) + event.amount
        if isinstance(event, Feedback):
            book.apply_feedback(event)
        for raw in mine:
            book.apply_record(Record(raw))
    assert fired == {}
    assert rows_text(rows) == offline_rows()
