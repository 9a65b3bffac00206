"""Where an event's trip to its signal goes, hop by hop, told by the records' own times.

A signal of an account rule is made by the account stage. Any other signal travels:
input topic -> account stage (held until final, applied) -> re-key topic (a bundle with
the event's items) -> entity stage (held until every ingest partition's frontier passed
it, applied) -> signals topic. Every Kafka record carries its producer's time, so the
trip splits at the re-key bundle that first carried the trigger's items.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from riskstream.agents.rekey import decode_message
from riskstream.streams.kafka_io import consume
from riskstream.streams.settings import Settings
from riskstream.streams.topics import rekey_topic_name


@dataclass(frozen=True, slots=True)
class Trip:
    """One signal: its trigger sent at ``sent_s`` (phase seconds), the signal written
    ``total_ms`` after the send; ``rekeyed_ms`` after the send, the re-key bundle."""

    sent_s: float
    total_ms: float
    entity_type: str
    rekeyed_ms: float | None = None


def rekeyed_at(settings: Settings, event_ids: Iterable[str]) -> tuple[dict[str, int], int]:
    """The producer time (ms) of the first re-key bundle carrying each event's items;
    and how many re-key records the topic holds."""
    wanted = set(event_ids)
    first: dict[str, int] = {}
    records = 0
    for record in consume(settings, rekey_topic_name(settings), idle_timeout_s=5):
        records += 1
        try:
            items, _ = decode_message(record.key, record.value)
        except (ValueError, TypeError, KeyError):
            continue
        for item in items:
            event_id = str(item.fields.get("event_id", ""))
            if event_id in wanted:
                seen = first.get(event_id)
                first[event_id] = (
                    record.timestamp_ms if seen is None else min(seen, record.timestamp_ms)
                )
    return first, records


def _p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "none"
    return (
        f"{statistics.median(values):,.0f} / {_p99(values):,.0f} / {max(values):,.0f} ms"
        f" ({len(values)})"
    )


def hop_rows(trips: Sequence[Trip], delay_ms: float) -> list[tuple[str, str]]:
    """p50 / p99 / max (count) of each hop after the event is final."""
    by_account = [t.total_ms - delay_ms for t in trips if t.entity_type == "account"]
    entity = [t for t in trips if t.entity_type != "account"]
    traced = [t for t in entity if t.rekeyed_ms is not None]
    return [
        ("after final, signals of account rules p50 / p99 / max (n)", _spread(by_account)),
        (
            "after final, signals of entity rules p50 / p99 / max (n)",
            _spread([t.total_ms - delay_ms for t in entity]),
        ),
        (
            "  of which final -> re-key bundle written (account stage)",
            _spread([t.rekeyed_ms - delay_ms for t in traced if t.rekeyed_ms is not None]),
        ),
        (
            "  of which re-key bundle -> signal written (entity stage)",
            _spread([t.total_ms - t.rekeyed_ms for t in traced if t.rekeyed_ms is not None]),
        ),
    ]
