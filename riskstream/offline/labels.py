"""Ground truth for a backtest: which events belong to which injected scenario instance.

One JSONL line per labelled event: ``{"event_id", "scenario", "instance", "fraud",
"role"}``. ``scenario`` names the pattern (a pack rule id), ``instance`` one injected
occurrence, ``fraud`` is false for a look-alike that should not alert. ``role`` is the
event's part in its instance: ``attack``, the fraud itself (the fraudster's actions and
the reports of them), or ``context``, what the story needs around it (a victim's
ordinary history, a merchant's normal sales, every event of a look-alike). ``role`` is
optional: without it an event of a fraud instance is ``attack`` and one of a look-alike
``context``, so files written before roles read as they did. A look-alike has no attack:
``"role": "attack"`` with ``"fraud": false`` is an inconsistent line. Unlisted events
are legitimate.

Each event falls in one class for the transaction-level measures
(:meth:`GroundTruth.event_class`): ``fraud`` (attack events of fraud instances),
``legit`` (unlisted events and every event of a look-alike) or ``context`` (context
events of fraud instances: neither the fraud nor clean background, left out of both).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from riskstream.offline.jsonl import BadLine, read_lines

Role = Literal["attack", "context"]
EventClass = Literal["fraud", "legit", "context"]


class Label(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str
    scenario: str
    instance: str
    fraud: bool
    role: Role | None = None  # absent: attack in a fraud instance, context in a look-alike

    @property
    def part(self) -> Role:
        """The role, or the one an unmarked event of its instance has."""
        if self.role is not None:
            return self.role
        return "attack" if self.fraud else "context"


@dataclass(frozen=True, slots=True)
class Instance:
    instance: str
    scenario: str
    fraud: bool
    event_ids: frozenset[str]  # every labelled event, whatever its role
    attack_ids: frozenset[str] = frozenset()  # the fraud itself (none in a look-alike)


@dataclass(slots=True)
class GroundTruth:
    instances: dict[str, Instance] = field(default_factory=dict)
    instance_of: dict[str, str] = field(default_factory=dict)  # event id -> instance
    role_of: dict[str, Role] = field(default_factory=dict)  # event id -> role

    def in_fraud_instance(self, event_id: str) -> bool:
        """The event belongs to a fraud instance, in any role."""
        instance = self.instance_of.get(event_id)
        return instance is not None and self.instances[instance].fraud

    def event_class(self, event_id: str) -> EventClass:
        """``fraud`` for the fraud itself, ``context`` for what surrounds it in a fraud
        instance, ``legit`` for the rest (unlabelled events and look-alikes)."""
        if not self.in_fraud_instance(event_id):
            return "legit"
        return "fraud" if self.role_of.get(event_id, "attack") == "attack" else "context"

    def fraud_event(self, event_id: str) -> bool:
        """The event is part of a fraud itself (an attack event of a fraud instance)."""
        return self.event_class(event_id) == "fraud"

    def scenarios(self) -> list[str]:
        return sorted({instance.scenario for instance in self.instances.values()})


def read_labels(path: Path) -> tuple[GroundTruth, list[BadLine]]:
    events: dict[str, set[str]] = defaultdict(set)
    attacks: dict[str, set[str]] = defaultdict(set)
    meta: dict[str, tuple[str, bool]] = {}
    instance_of: dict[str, str] = {}
    role_of: dict[str, Role] = {}
    bad: list[BadLine] = []
    for number, raw in read_lines(path):
        try:
            label = Label.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError) as error:
            bad.append(BadLine(number, "invalid_label", str(error).splitlines()[0]))
            continue
        if label.role == "attack" and not label.fraud:
            detail = f"event {label.event_id}: an attack in a look-alike (fraud false)"
            bad.append(BadLine(number, "inconsistent_label", detail))
            continue
        known = meta.setdefault(label.instance, (label.scenario, label.fraud))
        if known != (label.scenario, label.fraud):
            detail = f"instance {label.instance} was {known}, now {label.scenario, label.fraud}"
            bad.append(BadLine(number, "inconsistent_label", detail))
            continue
        events[label.instance].add(label.event_id)
        if label.part == "attack":
            attacks[label.instance].add(label.event_id)
        instance_of[label.event_id] = label.instance
        role_of[label.event_id] = label.part
    truth = GroundTruth(
        {
            name: Instance(
                name, meta[name][0], meta[name][1], frozenset(ids), frozenset(attacks[name])
            )
            for name, ids in events.items()
        },
        instance_of,
        role_of,
    )
    return truth, bad
