"""The handbook's transactions as riskstream's input: contract-v1 events, the fraud
feedback as it would arrive, and the ground truth in the backtest's labels format.

- A customer is an account (``hb-c<n>``) paying with one card (``instrument_id``
  ``hb-card-<n>``); a terminal is a merchant (``counterparty_id`` ``hb-t<n>``) and, at
  the point of sale, the device, as in riskstream's own simulator.
- The grid is laid on the map at 1 km a unit (``geo``), so the handbook's radius of 5 is
  5 km.
- Every fraud is reported by a chargeback exactly ``delay_days`` after the payment, the
  protocol's delay; feedback due after the last day written is left out, as it would
  not have arrived yet.
- Labels: one line per fraud transaction, ``{"event_id", "scenario", "instance",
  "fraud": true, "role": "attack"}`` (docs/offline.md#backtest): a compromised terminal
  or card is one instance from the day it was drawn; an amount over 220 is its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
from numpy.typing import NDArray

from riskstream.offline.handbook.generator import (
    DAY_S,
    SCENARIO_AMOUNT,
    SCENARIO_NAMES,
    SCENARIO_TERMINAL,
    HandbookData,
)

ORIGIN_LAT, ORIGIN_LON = 48.80, 2.25  # the grid's corner: Paris, roughly
KM_PER_DEGREE = 111.32
CURRENCY = "EUR"
CHUNK = 20_000


def transaction_id(row: int) -> str:
    return f"hb-{row}"


def row_of(event_id: str) -> int | None:
    """The transaction row an event id names, or None for another id."""
    if not event_id.startswith("hb-") or not event_id[3:].isdigit():
        return None
    return int(event_id[3:])


def write_events(
    data: HandbookData, path: Path, end_day: int, delay_days: int, start_day: int = 0
) -> tuple[int, int]:
    """The transactions of days ``[start_day, end_day)`` and the fraud feedback on them
    due by then, in event-time order; how many transactions and feedback events were
    written."""
    tx = data.transactions
    rows = np.flatnonzero((tx.seconds >= start_day * DAY_S) & (tx.seconds < end_day * DAY_S))
    reported = rows[tx.fraud[rows]]
    reported = reported[tx.seconds[reported] + delay_days * DAY_S < end_day * DAY_S]
    times = np.concatenate([tx.seconds[rows], tx.seconds[reported] + delay_days * DAY_S])
    is_feedback = np.concatenate([np.zeros(len(rows), bool), np.ones(len(reported), bool)])
    which = np.concatenate([rows, reported])
    order = np.lexsort((is_feedback, times))
    stamps = _stamps(data, times)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as sink:
        for start in range(0, len(order), CHUNK):
            part = order[start : start + CHUNK]
            sink.write(
                b"".join(_line(data, int(which[i]), is_feedback[i], stamps[i]) for i in part)
            )
    return len(rows), len(reported)


def write_labels(data: HandbookData, path: Path, end_day: int) -> int:
    tx = data.transactions
    rows = np.flatnonzero(tx.fraud & (tx.seconds < end_day * DAY_S))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as sink:
        sink.write(b"".join(orjson.dumps(label) + b"\n" for label in _labels(data, rows)))
    return len(rows)


def _labels(data: HandbookData, rows: NDArray[np.int64]) -> Iterator[dict[str, object]]:
    tx = data.transactions
    for row in rows.tolist():
        scenario = int(tx.scenario[row])
        name = SCENARIO_NAMES[scenario]
        if scenario == SCENARIO_AMOUNT:
            instance = f"{name}:{transaction_id(row)}"
        else:
            entity = tx.terminal[row] if scenario == SCENARIO_TERMINAL else tx.customer[row]
            instance = f"{name}:{entity}:day{tx.compromised_on[row]}"
        yield {
            "event_id": transaction_id(row), "scenario": name, "instance": instance,
            "fraud": True, "role": "attack",
        }  # fmt: skip


def _stamps(data: HandbookData, seconds: NDArray[np.int64]) -> list[str]:
    start = np.datetime64(data.config.start.replace(tzinfo=None), "s")
    moments = start + seconds.astype("timedelta64[s]")
    return [f"{text}Z" for text in np.datetime_as_string(moments, unit="s")]


def _line(data: HandbookData, row: int, feedback: bool, stamp: str) -> bytes:
    tx = data.transactions
    account = f"hb-c{tx.customer[row]}"
    terminal = f"hb-t{tx.terminal[row]}"
    if feedback:
        event: dict[str, object] = {
            "event_id": f"hb-fb-{row}", "type": "feedback", "occurred_at": stamp,
            "account_id": account, "target_event_id": transaction_id(row), "label": "fraud",
            "counterparty_id": terminal, "source": "chargeback",
        }  # fmt: skip
    else:
        x, y = data.profiles.terminal_xy[tx.terminal[row]]
        event = {
            "event_id": transaction_id(row), "type": "payment", "occurred_at": stamp,
            "account_id": account, "counterparty_id": terminal,
            "amount": f"{tx.amount[row]:.2f}", "currency": CURRENCY, "channel": "pos",
            "device_id": terminal, "instrument_id": f"hb-card-{tx.customer[row]}",
            "geo": _geo(float(x), float(y)), "status": "succeeded",
        }  # fmt: skip
    return orjson.dumps(event) + b"\n"


def _geo(x: float, y: float) -> dict[str, object]:
    lat = ORIGIN_LAT + y / KM_PER_DEGREE
    lon = ORIGIN_LON + x / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    return {"lat": round(lat, 5), "lon": round(lon, 5), "country": "FR"}
