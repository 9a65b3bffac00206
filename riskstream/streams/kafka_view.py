"""What the worker's Kafka consumer knows right now, for ``health.HealthMonitor``.

Read from memory only (no request to the broker), so it is cheap to take every second.
Faust and aiokafka expose none of it publicly: every private attribute read here is
optional, and a missing one makes the view say "cannot tell", never "unhealthy".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from riskstream.streams.health import KafkaView, PartitionView

log = logging.getLogger(__name__)


def kafka_view(app: Any, topics: Iterable[str]) -> KafkaView:
    """The consumer's connection state and the partitions of ``topics`` it owns."""
    consumer = getattr(app, "_consumer", None)  # not created before the worker starts
    if consumer is None:
        return KafkaView(broker_connected=None)
    return KafkaView(
        broker_connected=broker_connected(consumer),
        partitions=tuple(partitions(consumer, frozenset(topics))),
    )


def broker_connected(consumer: Any) -> bool | None:
    """Whether the consumer's Kafka client holds a live connection to some broker.

    The consumer always has one while the broker is there: it fetches (long polls) and
    heartbeats without pause. The aiokafka consumer lives in Faust's consumer thread;
    reading its dict of connections from here is safe (one C-level copy under the GIL).
    """
    thread = getattr(consumer, "_thread", None)
    client = getattr(getattr(thread, "_consumer", None), "_client", None)
    connections = getattr(client, "_conns", None)
    if not isinstance(connections, dict):
        return None
    try:
        return any(connection.connected() for connection in list(connections.values()))
    except Exception as error:  # a client version that keeps them otherwise
        log.debug("cannot read the consumer's connections: %r", error)
        return None


def partitions(consumer: Any, topics: frozenset[str]) -> Iterable[PartitionView]:
    committed = getattr(consumer, "_committed_offset", {})
    read = getattr(consumer, "_read_offset", {})
    try:
        assigned = list(consumer.assignment())
    except Exception:  # not subscribed yet
        return
    for tp in assigned:
        if tp.topic not in topics:
            continue  # changelogs and other topics are read, not committed, by Faust
        try:
            highwater = consumer.highwater(tp)
        except Exception:  # assigned to Faust, not yet to aiokafka
            highwater = None
        yield PartitionView(
            name=f"{tp.topic}/{tp.partition}",
            highwater=highwater,
            committed=committed.get(tp),
            read=read.get(tp) is not None,
        )
