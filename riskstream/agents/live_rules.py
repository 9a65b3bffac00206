"""The detection rules in force, on the native core.

:class:`LiveRules` keeps one :class:`~riskstream.core.LiveEngine` for the rule set in
force and builds another when the rule center changes it; a :class:`Snapshot` pairs an
engine with the compiled rules it was built from, so a batch's signals are dressed by
the very rule versions that produced them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from riskstream.agents.cep.compiler import CompiledRule, RuleSet
from riskstream.agents.cep.engine import make_signal
from riskstream.agents.cep.expressions import project
from riskstream.agents.plan import plan_of, rule_groups
from riskstream.core import LiveEngine, Unsupported
from riskstream.streams.events import Event
from riskstream.streams.outputs import Signal
from riskstream.tables.legacy import import_document, is_legacy

# What the core hands back for a signal (see ``riskstream/_core.pyi``).
CoreSignal = tuple[Any, ...]


def projection(event: Event) -> tuple[dict[str, Any], bytes]:
    """The event as rules see it (``project``), and that as the core reads it."""
    fields = project(event)
    return fields, projection_bytes(event.occurred_ms, fields)


def projection_bytes(occurred_ms: int, fields: dict[str, Any]) -> bytes:
    return orjson.dumps({"ms": occurred_ms, "fields": fields})


def fields_ms(fields: dict[str, Any]) -> int:
    """``occurred_ms`` of projected fields: ``ts`` is it divided by 1000, a double."""
    return round(float(fields["ts"]) * 1000)


def check_ruleset(ruleset: RuleSet) -> str | None:
    """Why the core cannot run ``ruleset``; None when it can."""
    try:
        LiveEngine(plan_of(ruleset), 0)
    except Unsupported as error:
        return str(error)
    return None


@dataclass(frozen=True, slots=True)
class Snapshot:
    ruleset: RuleSet
    engine: LiveEngine
    groups: list[list[CompiledRule]]

    def current(self, group: int, record: bytes | None) -> bytes | None:
        """``record`` in the core's format: a record of the previous format converted
        (ValueError when it cannot be), any other as it is."""
        if record is None or not is_legacy(record):
            return record
        return self.engine.import_state(group, import_document(record))

    def signal(self, item: CoreSignal) -> Signal:
        group, rule, signal_id, entity_id, evidence, shown, trigger, detected_ms, _ = item
        doc = self.groups[group][rule].doc
        return make_signal(
            doc, entity_id, "", evidence, shown, trigger, detected_ms, signal_id=signal_id
        )


class LiveRules:
    """The native engine of the rule set a holder has in force (``ruleset()``)."""

    def __init__(self, cache_bytes: int) -> None:
        self.cache_bytes = cache_bytes
        self._snapshot: Snapshot | None = None

    def cache_stats(self) -> dict[str, int]:
        if self._snapshot is None:
            return {}
        hits, misses, states, size = self._snapshot.engine.cache_stats()
        return {"hits": hits, "misses": misses, "states": states, "bytes": size}

    def snapshot(self, ruleset: RuleSet) -> Snapshot:
        current = self._snapshot
        if current is None or current.ruleset is not ruleset:
            engine = LiveEngine(plan_of(ruleset), self.cache_bytes)
            current = self._snapshot = Snapshot(ruleset, engine, rule_groups(ruleset))
        return current
