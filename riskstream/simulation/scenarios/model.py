"""What a scenario is, and what its stories are told with: the time units, the cities,
and the event-time order of a stream of scenarios."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from riskstream.rules.loader import default_pack
from riskstream.simulation.event import Kind, SimEvent

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

FEEDBACK: Kind = "feedback"  # kafka_io.topic_for sends these to the feedback topic

# (name, lat, lon, country)
CITIES: tuple[tuple[str, float, float, str], ...] = (
    ("Shanghai", 31.2304, 121.4737, "CN"),
    ("Beijing", 39.9042, 116.4074, "CN"),
    ("Shenzhen", 22.5431, 114.0579, "CN"),
    ("Chengdu", 30.5728, 104.0668, "CN"),
    ("Singapore", 1.3521, 103.8198, "SG"),
    ("Frankfurt", 50.1109, 8.6821, "DE"),
    ("London", 51.5072, -0.1276, "GB"),
    ("Lagos", 6.5244, 3.3792, "NG"),
    ("Sao Paulo", -23.5505, -46.6333, "BR"),
    ("New York", 40.7128, -74.0060, "US"),
)


@dataclass(frozen=True)
class Scenario:
    """One labelled story: the events, and the entity the rule judges."""

    rule_id: str
    positive: bool
    events: list[SimEvent]
    entity_type: str
    entity_id: str
    also: frozenset[str] = frozenset()  # other rules the story cannot help tripping
    variant: str = ""  # which telling of the story (drawn from the seed)
    # A look-alike that is legitimate behaviour over the rule's thresholds (a hard
    # negative the pack may alert on), not a near miss built to stay under them.
    may_alert: bool = False
    # A fraud told just under the rule's thresholds or outside its window: the rule
    # written for it cannot see it (other rules, and scores, may).
    evades: bool = False

    @property
    def label(self) -> str:
        return self.rule_id if self.positive else f"negative:{self.rule_id}"

    @property
    def attack(self) -> list[SimEvent]:
        """The events that are the fraud itself (none in a look-alike)."""
        return [event for event in self.events if event.role == "attack"]

    @property
    def context(self) -> list[SimEvent]:
        """The events around the fraud that the story needs (all of a look-alike's)."""
        return [event for event in self.events if event.role == "context"]

    @property
    def sources(self) -> frozenset[tuple[str, str]]:
        """The (kind, account) streams the events come from.

        Events of one stream reach the pipeline in order; events of several (another
        topic, another account's partition) interleave as the consumer happens to read
        them, which can change which window or pair a signal names, though not whether
        the rule fires.
        """
        return frozenset((event.kind, str(event.payload["account_id"])) for event in self.events)


def pack_rule_ids() -> set[str]:
    """The ids of the rules in the default pack."""
    return {doc.id for doc in default_pack()}


def event_order(event: SimEvent) -> tuple[datetime, str]:
    return event.occurred_at, str(event.payload["event_id"])


def stream(scenarios: Iterable[Scenario]) -> list[SimEvent]:
    """The events of all the scenarios as one stream, in event-time order."""
    return sorted((event for item in scenarios for event in item.events), key=event_order)


def day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
