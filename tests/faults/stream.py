"""The fault suite's stream: one seeded simulated run, and the orders it may arrive in.

The run is ``riskstream simulate``'s population model (customers, merchants, every pack
scenario injected, feedback at its delay) over several days that end at the last UTC
midnight, so that no event lies ahead of the worker's clock. Its seed and population are
the fault suite's own: no unit or integration test uses them.

Replay, the oracle, reads the events in event-time order. A deployment's producers write
each topic as things happen, so the topics arrive interleaved in event time; the other
orders below are what the faults of the suite do to that.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from riskstream.agents.partitioning import murmur2_partition
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.simulation.event import Kind, SimEvent
from tests.integration.helpers import expected_signals

SEED = 1616
CUSTOMERS = 1200
DAYS = 3.0
FRAUD_PER_PATTERN = 6
# The fields that name an entity of some key group (account, device, IP, merchant ...).
ENTITY_FIELDS = ("account_id", "device_id", "ip", "counterparty_id", "instrument_id")


@dataclass(frozen=True)
class FaultStream:
    events: list[SimEvent]  # in event-time order
    expected: dict[str, dict[str, object]]  # replay's signals, by id
    # Which input topics, and which accounts' events, name each entity.
    sources_by_entity: dict[str, frozenset[tuple[Kind, str]]]

    def fed_by_one_source(self, entity_id: str, partitions: int) -> bool:
        """Whether one input partition of one topic carries every event of the entity:
        then the worker reads them in the order they were sent, as replay does."""
        sources = self.sources_by_entity.get(entity_id, frozenset())
        placed = {
            (kind, murmur2_partition(account.encode(), partitions)) for kind, account in sources
        }
        return len(placed) <= 1


def build_stream() -> FaultStream:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    config = SimulationConfig(
        seed=SEED,
        customers=CUSTOMERS,
        days=DAYS,
        start=today - timedelta(days=DAYS),
        fraud_per_pattern=FRAUD_PER_PATTERN,
    )
    events = generate(config).events
    sources: defaultdict[str, set[tuple[Kind, str]]] = defaultdict(set)
    for event in events:
        account = str(event.payload["account_id"])
        for name in ENTITY_FIELDS:
            value = event.payload.get(name)
            if value is not None:
                sources[str(value)].add((event.kind, account))
    return FaultStream(
        events=events,
        expected=expected_signals(events),
        sources_by_entity={entity: frozenset(pairs) for entity, pairs in sources.items()},
    )


def shuffled_within(events: list[SimEvent], most: timedelta, seed: int) -> list[SimEvent]:
    """Each event held back by a random delay of up to ``most``: what a producer's
    retries and batching do to arrival order, inside the rules' 10-minute lateness."""
    rng = random.Random(seed)
    most_s = most.total_seconds()
    held = [
        (event.occurred_at + timedelta(seconds=rng.uniform(0, most_s)), event) for event in events
    ]
    held.sort(key=lambda pair: pair[0])
    return [event for _, event in held]


def lagging(events: list[SimEvent], kind: Kind, behind: timedelta) -> list[SimEvent]:
    """The topic of ``kind`` arriving ``behind`` later in event time than the others (its
    producer was down, or its consumer caught up last)."""
    return sorted(
        events,
        key=lambda event: event.occurred_at + (behind if event.kind == kind else timedelta()),
    )
