"""The detection rules in force, on the native core.

:class:`LiveRules` keeps one :class:`~riskstream.core.LiveEngine` for the rule set in
force and builds another when the rule center changes it; a :class:`Snapshot` pairs an
engine with the compiled rules it was built from, so a batch's signals are dressed by
the very rule versions that produced them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from riskstream.agents.cep.compiler import CompiledRule, RuleSet
from riskstream.agents.cep.expressions import project
from riskstream.agents.plan import plan_of, rule_groups
from riskstream.agents.signals import dress
from riskstream.core import LiveEngine, Unsupported
from riskstream.streams.events import Event
from riskstream.streams.outputs import Signal
from riskstream.tables.legacy import import_document, is_legacy

# What the core hands back for a signal (see ``riskstream/_core.pyi``).
CoreSignal = tuple[Any, ...]
# (status, signals, shadow signals, why the core could not evaluate it)
CoreOutcome = tuple[str, list[CoreSignal], list[CoreSignal], str | None]
# (group, key, stored record, [events]) in; (record, outcomes, why unreadable, each
# event's other entities (group, key) or why they could not be told) out
BatchIn = tuple[int, str, bytes | None, list[bytes]]
Routes = list[tuple[int, str]] | str
BatchOut = tuple[bytes, list[CoreOutcome], str | None, list[Routes]]
T = TypeVar("T")


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
    # Key expression -> group index (the account group's key is its own).
    group_index: dict[str, int] = field(default_factory=dict)

    def work(self, batches: list[BatchIn], routes: bool = False) -> list[BatchOut]:
        """Apply ``batches`` (with ``routes``: find each event's other entities too), in
        the core's thread (``LiveRules.run``). A stored record of the previous format is
        converted; one the core cannot read starts the entity afresh."""
        if not any(is_legacy(stored) for _, _, stored, _ in batches):
            return self.engine.apply(batches, routes)
        inputs: list[BatchIn] = []
        unreadable: list[str | None] = []
        for group, key, stored, events in batches:
            try:
                current = self.current(group, stored)
                unreadable.append(None)
            except ValueError as error:
                current = None
                unreadable.append(str(error))
            inputs.append((group, key, current, events))
        return [
            (record, outcomes, reason or converted, found)
            for (record, outcomes, reason, found), converted in zip(
                self.engine.apply(inputs, routes), unreadable, strict=True
            )
        ]

    def current(self, group: int, record: bytes | None) -> bytes | None:
        """``record`` in the core's format: a record of the previous format converted
        (ValueError when it cannot be), any other as it is."""
        if record is None or not is_legacy(record):
            return record
        return self.engine.import_state(group, import_document(record))

    def signal(self, item: CoreSignal) -> Signal:
        return dress(self.groups, item)

    def slow_rules(self, budget_ms: float) -> list[tuple[str, float]]:
        """(rule id, milliseconds) of the rules one of whose evaluations took longer than
        ``budget_ms`` since the last call; in the core's thread."""
        found = self.engine.slow_rules(int(budget_ms * 1000))
        return [(self.groups[group][rule].id, took / 1000) for group, rule, took in found]


class LiveRules:
    """The native engine of the rule set a holder has in force (``ruleset()``)."""

    def __init__(
        self,
        cache_bytes: int,
        time_budget_ms: float | None = None,
        on_slow: Callable[[list[tuple[str, float]], float], object] | None = None,
    ) -> None:
        self.cache_bytes = cache_bytes
        # A rule one of whose evaluations took longer is reported to ``on_slow`` (rule
        # id, milliseconds), with the budget.
        self.time_budget_ms = time_budget_ms
        self.on_slow = on_slow
        self._snapshot: Snapshot | None = None
        # The core computes in its own thread, the GIL released, so that the event loop
        # (score requests, the web server) is not held up by a batch. One thread: the
        # engine is used by one caller at a time.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="riskstream-core")

    async def run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def apply(
        self, snapshot: Snapshot, batches: list[BatchIn], routes: bool = False
    ) -> list[BatchOut]:
        """``snapshot.work`` in the core's thread; then the rules that overran the time
        budget meanwhile go to ``on_slow``."""
        budget_ms = self.time_budget_ms
        if budget_ms is None or self.on_slow is None:
            return await self.run(lambda: snapshot.work(batches, routes))
        results, slow = await self.run(
            lambda: (snapshot.work(batches, routes), snapshot.slow_rules(budget_ms))
        )
        if slow:
            self.on_slow(slow, budget_ms)
        return results

    async def cache_stats(self) -> dict[str, int]:
        """The state cache, asked in the core's thread (the engine has one caller)."""
        snapshot = self._snapshot
        if snapshot is None:
            return {}
        hits, misses, states, size = await self.run(snapshot.engine.cache_stats)
        return {"hits": hits, "misses": misses, "states": states, "bytes": size}

    def snapshot(self, ruleset: RuleSet) -> Snapshot:
        current = self._snapshot
        if current is None or current.ruleset is not ruleset:
            engine = LiveEngine(plan_of(ruleset), self.cache_bytes)
            groups = rule_groups(ruleset)
            index = {group[0].key.source: at for at, group in enumerate(groups) if group}
            current = self._snapshot = Snapshot(ruleset, engine, groups, index)
        return current
