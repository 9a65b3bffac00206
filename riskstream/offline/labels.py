"""Ground truth for a backtest: which events belong to which injected scenario instance.

One JSONL line per labelled event: ``{"event_id", "scenario", "instance", "fraud"}``.
``scenario`` names the pattern (a pack rule id), ``instance`` one injected occurrence,
``fraud`` is false for a look-alike that should not alert. Unlisted events are legitimate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from riskstream.offline.jsonl import BadLine, read_lines


class Label(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str
    scenario: str
    instance: str
    fraud: bool


@dataclass(frozen=True, slots=True)
class Instance:
    instance: str
    scenario: str
    fraud: bool
    event_ids: frozenset[str]


@dataclass(slots=True)
class GroundTruth:
    instances: dict[str, Instance] = field(default_factory=dict)
    instance_of: dict[str, str] = field(default_factory=dict)  # event id -> instance

    def fraud_event(self, event_id: str) -> bool:
        instance = self.instance_of.get(event_id)
        return instance is not None and self.instances[instance].fraud

    def scenarios(self) -> list[str]:
        return sorted({instance.scenario for instance in self.instances.values()})


def read_labels(path: Path) -> tuple[GroundTruth, list[BadLine]]:
    events: dict[str, set[str]] = defaultdict(set)
    meta: dict[str, tuple[str, bool]] = {}
    instance_of: dict[str, str] = {}
    bad: list[BadLine] = []
    for number, raw in read_lines(path):
        try:
            label = Label.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError) as error:
            bad.append(BadLine(number, "invalid_label", str(error).splitlines()[0]))
            continue
        known = meta.setdefault(label.instance, (label.scenario, label.fraud))
        if known != (label.scenario, label.fraud):
            detail = f"instance {label.instance} was {known}, now {label.scenario, label.fraud}"
            bad.append(BadLine(number, "inconsistent_label", detail))
            continue
        events[label.instance].add(label.event_id)
        instance_of[label.event_id] = label.instance
    truth = GroundTruth(
        {
            name: Instance(name, meta[name][0], meta[name][1], frozenset(ids))
            for name, ids in events.items()
        },
        instance_of,
    )
    return truth, bad
