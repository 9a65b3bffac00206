"""Injected fraud: the scenario library's stories as labelled instances in the traffic.

For every rule of the default pack, ``fraud_per_pattern`` positive stories and as many
look-alikes (near misses and hard negatives), each in the variant its seed draws, built
by its own
:class:`~riskstream.simulation.scenarios.ScenarioBuilder` (its base a random moment of its
share of the period, its seed derived from the run's seed), so the instances are spread
evenly over the period. A story's events end at its base; its history (weeks of
baseline, months of dormancy, a merchant's week of sales) reaches back before it, and
before the start of the period where the base is early.

The builder's ids carry the instance's prefix; here every entity gets an id from the
run's mint instead, in the background's format, and addresses from the background's
broadband range, so nothing on an event tells an injected story from ordinary traffic.
The shops and online merchants a story pays become ordinary merchants of the
population (a drained account buys where everyone buys), except in the merchant's
own stories, whose merchant is the subject and stays apart.

Positive stories also get their feedback (:data:`.feedback.REPORTS`): the victims'
disputes, chargebacks and analysts' verdicts, after a log-normal delay. Only the
story's attack transactions are reported (not the victim's history before a takeover,
nor the baseline before a spike), and the reports are part of the attack; every event
keeps its role from the story (:mod:`riskstream.simulation.scenarios`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from typing import Any

from riskstream.simulation import feedback
from riskstream.simulation.background import Draft
from riskstream.simulation.config import SimulationConfig, derived_seed
from riskstream.simulation.event import SimEvent
from riskstream.simulation.ids import BROADBAND
from riskstream.simulation.population import Merchant, Population
from riskstream.simulation.scenarios import Scenario, ScenarioBuilder, pack_rule_ids
from riskstream.streams.events import from_epoch_ms, to_epoch_ms

_BUILDER_ID = re.compile(r"^.+-(?P<kind>acct|dev|card|bank|merch|tx|ae|fb)-\d{5}$")
_MINT_KINDS = {"acct": "account", "dev": "device", "card": "card", "bank": "bank"}
_ENTITY_FIELDS = ("account_id", "counterparty_id", "device_id", "instrument_id")
OWN_MERCHANT = frozenset({"merchant.fraud_rate"})


@dataclass(frozen=True, slots=True)
class Truth:
    scenario: str  # the pack rule id
    instance: str
    fraud: bool
    variant: str  # the telling of the story, drawn from the instance's seed


@dataclass(frozen=True, slots=True)
class Planned:
    rule_id: str
    positive: bool
    number: int  # 1 .. fraud_per_pattern
    base_ms: int

    @property
    def instance(self) -> str:
        label = self.rule_id if self.positive else f"negative:{self.rule_id}"
        return f"{label}#{self.number}"


@dataclass(slots=True)
class Injection:
    drafts: list[Draft] = field(default_factory=list)
    truth: dict[str, Truth] = field(default_factory=dict)  # provisional event id -> truth
    instances: list[Planned] = field(default_factory=list)


def plan(config: SimulationConfig) -> list[Planned]:
    """Every instance of the run and its base: instance k of a pattern (and its
    look-alike) falls in the k-th of ``fraud_per_pattern`` equal slices of the period."""
    rng = random.Random(derived_seed(config.seed, "plan"))
    count = config.fraud_per_pattern
    span = config.end_ms - config.start_ms
    planned = []
    for rule_id in sorted(pack_rule_ids()):
        for number in range(1, count + 1):
            for positive in (True, False):
                offset = int(span * (number - 1 + rng.uniform(0.02, 0.999)) / count)
                planned.append(Planned(rule_id, positive, number, config.start_ms + offset))
    return planned


def inject(config: SimulationConfig, population: Population) -> Injection:
    injection = Injection()
    for index, item in enumerate(plan(config), start=1):
        seed = derived_seed(config.seed, "instance", item.instance) % 1_000_000
        builder = ScenarioBuilder(from_epoch_ms(item.base_ms), seed, prefix=f"i{index:04d}s")
        scenario = builder.build(item.rule_id, item.positive)
        rng = random.Random(derived_seed(config.seed, "instance-extras", item.instance))
        remap = _Remap(population, rng, own_merchant=item.rule_id in OWN_MERCHANT)
        truth = Truth(item.rule_id, item.instance, item.positive, scenario.variant)
        events = [replace(e, payload=remap.payload(e.payload)) for e in scenario.events]
        if item.positive:
            events += _fraud_feedback(rng, scenario, events, builder.prefix)
        for event in events:
            injection.drafts.append(Draft(to_epoch_ms(event.occurred_at), event))
            injection.truth[str(event.payload["event_id"])] = truth
        injection.instances.append(item)
    return injection


def _fraud_feedback(
    rng: random.Random, scenario: Scenario, events: list[SimEvent], prefix: str
) -> list[SimEvent]:
    transactions = [
        event.payload for event in events if event.kind == "transaction" and event.role == "attack"
    ]
    made = []
    for number, (txn, source) in enumerate(
        feedback.reported(rng, scenario.rule_id, transactions), start=1
    ):
        at = to_epoch_ms(txn["occurred_at"]) + feedback.delay_ms(rng, source)
        fields = feedback.payload(txn, "fraud", source)
        payload = {"event_id": f"{prefix}-report-{number:05d}", **fields,
                   "occurred_at": from_epoch_ms(at)}  # fmt: skip
        made.append(SimEvent("feedback", payload, scenario.label, "attack"))
    return made


class _Remap:
    """One story's builder ids to the run's ids (event ids stay: they are provisional)."""

    def __init__(self, population: Population, rng: random.Random, own_merchant: bool) -> None:
        self.population = population
        self.rng = rng
        self.own_merchant = own_merchant
        self.ids: dict[str, str] = {}

    def payload(self, original: dict[str, Any]) -> dict[str, Any]:
        payload = dict(original)
        for name in _ENTITY_FIELDS:
            value = payload.get(name)
            if value is not None:
                payload[name] = self._entity(str(value), payload)
        if payload.get("ip") is not None:
            payload["ip"] = self._ip(str(payload["ip"]))
        return payload

    def _entity(self, value: str, payload: dict[str, Any]) -> str:
        known = self.ids.get(value)
        if known is not None:
            return known
        match = _BUILDER_ID.match(value)
        if match is None:
            raise ValueError(f"not a scenario builder id: {value!r}")
        kind = match["kind"]
        mint = self.population.mint
        if kind == "merch":
            new = mint.new("merchant") if self.own_merchant else self._merchant(payload)
        elif kind == "dev" and payload.get("channel") == "pos":
            new = mint.new("terminal")
        elif kind in _MINT_KINDS:
            new = mint.new(_MINT_KINDS[kind])
        else:
            raise ValueError(f"an event id where an entity was expected: {value!r}")
        self.ids[value] = new
        return new

    def _merchant(self, payload: dict[str, Any]) -> str:
        online = payload.get("channel") != "pos"
        pool: list[Merchant] = [m for m in self.population.merchants if m.online == online]
        return self.rng.choices(pool, weights=[m.popularity for m in pool])[0].merchant_id

    def _ip(self, value: str) -> str:
        known = self.ids.get(value)
        if known is None:
            known = self.ids[value] = self.population.mint.ip(BROADBAND)
        return known
