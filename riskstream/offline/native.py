"""Replay on the core (``native/``, Rust through PyO3): the live pipeline's routing, rule
engine and scorer over a file of events, in event-time order.

The core takes the rule set as the Python compiler resolved it (:func:`plan_of`). Lines
its strict reader is not sure of are validated here, by the contract's own models, and
handed over as their projection. What the core cannot run is an error, never a fallback:
a rule set it cannot compile is refused (:class:`RuleError`); a value it cannot hold (an
attribute beyond int64, naming the line) or an evaluation it gives up on stops the run
(:class:`Unsupported`).

Every line is tokenised before it is read, as live ingest does it and under the same
secret (``RISKSTREAM_TOKEN_SECRET``, ``streams/redaction.token_key``): card, phone and id
numbers are the same tokens as live, so the entity ids, signal ids and outputs are too,
and no card number reaches them in the clear.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from riskstream.agents.cep.compiler import EngineLimits, RuleError
from riskstream.agents.cep.expressions import project
from riskstream.agents.plan import plan_of as agent_plan
from riskstream.agents.plan import rule_groups
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.scoring import DecisionPolicy
from riskstream.agents.signals import dress
from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.core import Replay, Unsupported
from riskstream.offline.jsonl import MAX_LINE_BYTES, BadLine
from riskstream.streams.events import ip_prefix
from riskstream.streams.outputs import Signal
from riskstream.streams.redaction import Tokeniser, token_key
from riskstream.streams.settings import get_settings


@dataclass(slots=True)
class ReplayStats:
    events: int = 0
    transactions: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    signals_by_rule: Counter[str] = field(default_factory=Counter)
    shadow_by_rule: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def plan_of(
    center: RuleCenter, policy: DecisionPolicy, limits: EngineLimits | None = None
) -> bytes:
    """The rule set, scoring rules and policy as the native runtime reads them."""
    return agent_plan(center.ruleset, list(center.score_rules.values()), policy, limits)


class NativeReplay:
    """One pass of the core's engine and scorer over a file of events."""

    def __init__(
        self,
        center: RuleCenter,
        policy: DecisionPolicy | None = None,
        limits: EngineLimits | None = None,
        secret: bytes | None = None,
    ) -> None:
        """``secret``: what tokens are made under; the configured one (as the worker's)
        when None."""
        policy = policy or DecisionPolicy()
        secret = token_key(get_settings()) if secret is None else secret
        self._tokeniser = Tokeniser(secret)
        try:
            self._core = Replay(plan_of(center, policy, limits), ip_prefix, secret)
        except Unsupported as error:
            raise RuleError(f"the core cannot run these rules: {error}") from None
        self._groups = rule_groups(center.ruleset)
        self.stats = ReplayStats()

    def load(self, path: Path, max_bytes: int = MAX_LINE_BYTES) -> list[BadLine]:
        """Read every event of the file; the invalid lines, by number."""
        try:
            unsure = self._core.load(str(path), max_bytes)
        except ValueError as error:
            raise OSError(f"cannot read {path}: {error}") from None
        bad: list[BadLine] = []
        for line, raw in unsure:
            try:
                event = parse_event(raw, max_bytes=max_bytes, redact=self._tokeniser.tokenise)
            except InvalidEventError as error:
                bad.append(BadLine(line, error.rejection.reason, error.rejection.detail))
                continue
            projection = {"ms": event.occurred_ms, "fields": project(event)}
            try:
                self._core.add_projection(line, orjson.dumps(projection))
            except Unsupported as error:
                raise Unsupported(f"line {line}: {error}") from None
        self._core.sort()
        return bad

    def __len__(self) -> int:
        return len(self._core)

    def run(self, count: int) -> tuple[bytes, list[Signal], list[Signal]]:
        """The next ``count`` events: their decision lines, signals and shadow signals."""
        started = time.perf_counter()
        decisions, signals, shadow = self._core.run(count)
        dressed = [self._signal(item) for item in signals]
        dressed_shadow = [self._signal(item) for item in shadow]
        stats = self.stats
        stats.seconds += time.perf_counter() - started
        for signal in dressed:
            stats.signals_by_rule[signal.rule_id] += 1
        for signal in dressed_shadow:
            stats.shadow_by_rule[signal.rule_id] += 1
        counts = self._core.counts()
        stats.events = counts["events"]
        stats.transactions = counts["transactions"]
        stats.statuses.clear()
        stats.statuses.update(counts["statuses"])
        stats.decisions.clear()
        stats.decisions.update(counts["decisions"])
        return decisions, dressed, dressed_shadow

    def _signal(self, item: tuple[Any, ...]) -> Signal:
        return dress(self._groups, item)
