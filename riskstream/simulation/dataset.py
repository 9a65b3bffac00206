"""A whole run: background and injected events in event-time order, final ids, labels.

- The period is [start, end). Ordinary events falling at or after the end (the tail of
  a late session, a refund due later) are left out. **Feedback due after the end is
  dropped** by default: the file is what was known by the end of the period, as a
  capture of the topics would be; with ``keep_late_feedback`` it is kept, at its own
  time, so the file then runs past the end. Feedback whose target was left out goes too.
- Injected stories' history may lie before the start (see :mod:`.injection`).
- Events are ordered by instant; events of the same instant keep the order in which
  they were made, so the order, and every byte of the output, follows from the options.
- Event ids are given in that order: ``tx-<run>-<n>``, ``ae-...`` or ``fb-...``, where
  ``<run>`` names the options (:attr:`SimulationConfig.run_id`) and ``n`` counts events
  from 1; feedback targets are renamed to match. Fields come in one fixed order, so
  neither ids nor layout tell an injected event from an ordinary one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from riskstream.simulation.background import Background, Draft
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.event import SimEvent
from riskstream.simulation.injection import Injection, inject
from riskstream.simulation.population import build_population

ID_PREFIX = {"transaction": "tx", "account_event": "ae", "feedback": "fb"}
FIELD_ORDER = (
    "event_id", "type", "occurred_at", "account_id", "target_event_id", "label", "source",
    "counterparty_id", "amount", "currency", "channel", "device_id", "ip", "geo",
    "instrument_id", "status", "attributes",
)  # fmt: skip
_RANK = {name: rank for rank, name in enumerate(FIELD_ORDER)}


@dataclass(slots=True)
class Dataset:
    config: SimulationConfig
    events: list[SimEvent]
    labels: list[dict[str, Any]]  # one per labelled event, in the order of the events
    customers: int = 0
    merchants: int = 0
    instances: int = 0
    dropped_feedback: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # events by type


def canonical(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload's fields in :data:`FIELD_ORDER`, unknown ones after them by name."""
    return dict(sorted(payload.items(), key=lambda item: (_RANK.get(item[0], 99), item[0])))


def generate(config: SimulationConfig, on_customer: Callable[[int], None] | None = None) -> Dataset:
    """The run's events and labels; ``on_customer(n)`` reports progress."""
    population = build_population(config)
    background = Background(config, population)
    drafts: list[Draft] = []
    for customer in population.customers:
        drafts.extend(background.customer_events(customer))
        if on_customer is not None:
            on_customer(1)
    injection = inject(config, population)
    drafts.extend(injection.drafts)
    dataset = Dataset(config, [], [], len(population.customers), len(population.merchants),
                      len(injection.instances))  # fmt: skip
    _finish(dataset, drafts, injection)
    return dataset


def _finish(dataset: Dataset, drafts: list[Draft], injection: Injection) -> None:
    config = dataset.config
    end = config.end_ms
    kept: list[Draft] = []
    for draft in drafts:
        if draft.ms < end:
            kept.append(draft)
        elif draft.event.kind == "feedback":
            if config.keep_late_feedback:
                kept.append(draft)
            else:
                dataset.dropped_feedback += 1
    kept.sort(key=lambda draft: draft.ms)  # stable: ties keep the order they were made in
    run = config.run_id
    renamed: dict[str, str] = {}
    number = 0
    for draft in kept:
        event = draft.event
        old = str(event.payload["event_id"])
        payload = dict(event.payload)
        if event.kind == "feedback":
            target = renamed.get(str(payload["target_event_id"]))
            if target is None:  # the transaction it judges is not in the file
                dataset.dropped_feedback += 1
                continue
            payload["target_event_id"] = target
        number += 1
        new = f"{ID_PREFIX[event.kind]}-{run}-{number:08d}"
        renamed[old] = new
        payload["event_id"] = new
        dataset.events.append(replace(event, payload=canonical(payload)))
        dataset.counts[str(payload["type"])] += 1
        truth = injection.truth.get(old)
        if truth is not None:
            dataset.labels.append({"event_id": new, "scenario": truth.scenario,
                                   "instance": truth.instance, "fraud": truth.fraud,
                                   "role": event.role, "variant": truth.variant})  # fmt: skip
