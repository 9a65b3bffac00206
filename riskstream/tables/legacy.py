"""Records of the previous state format (the Python engine's JSON), converted.

A worker that finds such a record in its table (written before the native core ran the
pipeline, and restored from the changelog) converts it once, on first touch: this
module reads the old JSON into the document the core imports
(``LiveEngine.import_state``), which writes it back in the core's format. Nothing in
the old records is lost: entries, ids seen, fired signals, baselines and daily totals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

LEGACY_PREFIX = b"{"


def is_legacy(record: bytes | None) -> bool:
    return record is not None and record[:1] == LEGACY_PREFIX


def _ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def import_document(record: bytes) -> bytes:
    """The core's import document of an old record. ValueError when it is not one."""
    try:
        wire = orjson.loads(record)
        first, last, count, late = wire["p"]
        fired = []
        for rule_id, signal_id, emitted_by, start, end, window_key, payload in wire["f"]:
            fired.append(
                {
                    "rule_id": str(rule_id),
                    "emitted_by": str(emitted_by),
                    "start_ms": int(start),
                    "end_ms": int(end),
                    "window_key": str(window_key),
                    "signal_id": str(signal_id),
                    "entity_key": str(payload["entity_id"]),
                    "evidence": [str(item) for item in payload["evidence"]],
                    "shown": dict(payload.get("aggregates") or {}),
                    "trigger_event_id": str(payload["trigger_event_id"]),
                    "detected_ms": _ms(payload["detected_at"]),
                    "expires_ms": _ms(payload["expires_at"]),
                }
            )
        document: dict[str, Any] = {
            "watermark_ms": int(wire["w"]),
            "first_seen_ms": int(first),
            "last_seen_ms": int(last),
            "events_seen": int(count),
            "late_events": int(late),
            "entries": [
                {"ts_ms": int(ts), "event_id": str(event_id), "fields": fields, "flags": flags}
                for ts, event_id, fields, flags in wire["e"]
            ],
            "seen": [[str(event_id), int(ts)] for event_id, ts in wire["s"].items()],
            "fired": fired,
            "baselines": [
                {
                    "rule_id": name.split("/", 1)[0],
                    "aggregate": name.split("/", 1)[1],
                    "days": [[int(day), float(c), float(s)] for day, (c, s) in days.items()],
                }
                for name, days in wire["b"].items()
                if "/" in name
            ],
            "spend": [[int(day), str(total)] for day, total in wire.get("d", {}).items()],
        }
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a record of the previous format: {error!r}") from None
    return orjson.dumps(document)
