"""The handbook's data as riskstream reads it: contract-v1 events, feedback at the
protocol's delay, labels in the backtest's format; and the rules' scores on them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import orjson
import pytest
from rich.console import Console

from riskstream.agents.validation import parse_event
from riskstream.offline.handbook import events, scoring
from riskstream.offline.handbook.generator import DAY_S, HandbookConfig, HandbookData, generate
from riskstream.offline.jsonl import MAX_LINE_BYTES
from riskstream.offline.labels import read_labels
from riskstream.streams.events import Feedback, Transaction

CONFIG = HandbookConfig(seed=2, customers=120, terminals=240, days=30)
END_DAY, DELAY = 28, 7


@pytest.fixture(scope="module")
def data() -> HandbookData:
    return generate(CONFIG)


@pytest.fixture(scope="module")
def written(data: HandbookData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("handbook")
    events.write_events(data, folder / "events.jsonl", END_DAY, DELAY)
    events.write_labels(data, folder / "labels.jsonl", END_DAY)
    return folder


def test_every_line_is_a_contract_event_in_time_order(data: HandbookData, written: Path) -> None:
    parsed = _events(written)
    payments = [event for event in parsed if isinstance(event, Transaction)]
    tx = data.transactions
    assert len(payments) == int((tx.day < END_DAY).sum())
    moments = [event.occurred_at for event in parsed]
    assert moments == sorted(moments)
    first = payments[0]
    assert first.type == "payment" and first.channel == "pos"
    assert first.account_id == f"hb-c{tx.customer[0]}"
    assert first.counterparty_id == f"hb-t{tx.terminal[0]}"
    assert first.instrument_id == f"hb-card-{tx.customer[0]}"
    assert float(first.amount) == pytest.approx(tx.amount[0])
    assert first.occurred_at == CONFIG.start + timedelta(seconds=int(tx.seconds[0]))


def test_each_fraud_is_reported_a_delay_after_it_and_nothing_else_is(
    data: HandbookData, written: Path
) -> None:
    parsed = _events(written)
    when = {event.event_id: event.occurred_at for event in parsed}
    feedback = [event for event in parsed if isinstance(event, Feedback)]
    tx = data.transactions
    due = tx.fraud & (tx.seconds + DELAY * DAY_S < END_DAY * DAY_S)
    assert len(feedback) == int(due.sum()) > 0
    for event in feedback:
        row = events.row_of(event.target_event_id)
        assert row is not None and tx.fraud[row]
        assert event.label == "fraud"
        assert event.occurred_at - when[event.target_event_id] == timedelta(days=DELAY)


def test_labels_are_the_fraud_transactions_in_the_backtests_format(
    data: HandbookData, written: Path
) -> None:
    truth, bad = read_labels(written / "labels.jsonl")
    assert bad == []
    tx = data.transactions
    fraud_rows = np.flatnonzero(tx.fraud & (tx.day < END_DAY))
    labelled = {events.row_of(line["event_id"]) for line in _lines(written / "labels.jsonl")}
    assert labelled == set(fraud_rows.tolist())
    row = int(fraud_rows[0])
    assert truth.event_class(events.transaction_id(row)) == "fraud"


def test_the_rules_score_every_asked_transaction(data: HandbookData, written: Path) -> None:
    rows = np.flatnonzero(data.transactions.day == END_DAY - 1)
    scores = scoring.rule_scores(written / "events.jsonl", rows, Console(quiet=True))
    assert len(scores) == len(rows)
    assert ((scores >= 0) & (scores <= 100)).all()


def _events(folder: Path) -> list[Transaction | Feedback]:
    lines = (folder / "events.jsonl").read_bytes().splitlines()
    parsed = [parse_event(line, max_bytes=MAX_LINE_BYTES) for line in lines]
    return [event for event in parsed if isinstance(event, Transaction | Feedback)]


def _lines(path: Path) -> list[dict[str, str]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]
