"""Is a Kafka broker there, and does it take our login? Asked once, before a command
opens its first Kafka client.

Kafka's clients retry an absent broker for 30 s, logging every attempt, and then fail
with a traceback, and a refused login they retry for ever; a command asks first and
says what is wrong in one line.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from riskstream.streams.kafka_security import verify_login
from riskstream.streams.settings import Settings

HINT = (
    "start the local one with `make broker-start` (deploy/local/kafka.sh start), "
    "or set KAFKA_BOOTSTRAP to yours"
)
CONNECT_TIMEOUT_S = 5.0
DEFAULT_PORT = 9092


class NoBrokerError(Exception):
    """No bootstrap address of the settings accepts a connection."""

    def __init__(self, bootstrap: str, reasons: list[str]) -> None:
        super().__init__(f"no Kafka broker at {bootstrap} ({'; '.join(reasons)}); {HINT}")


def _address(entry: str) -> tuple[str, int]:
    """``host:port``, ``[::1]:port`` or ``PLAINTEXT://host:port`` -> (host, port)."""
    entry = entry.strip().rpartition("://")[2]
    host, colon, port = entry.rpartition(":")
    if not colon or "]" in port:  # no port: ``host``, ``[::1]``
        host, port = entry, str(DEFAULT_PORT)
    return host.strip("[]"), int(port)


def _why_not(error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, TimeoutError):
        return "no answer"
    return (error.strerror or str(error)).lower()


def require_broker(settings: Settings, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Return if some bootstrap address accepts a TCP connection (and, with Kafka
    security configured, the login); else raise :class:`NoBrokerError`, saying why for
    each address, or :class:`~riskstream.streams.kafka_security.KafkaSecurityError`."""
    reasons: list[tuple[str, str]] = []
    for entry in settings.kafka_bootstrap.split(","):
        try:
            with socket.create_connection(_address(entry), timeout=timeout_s):
                pass
        except ValueError:
            reasons.append((entry.strip(), "not host:port"))
        except OSError as error:
            reasons.append((entry.strip(), _why_not(error)))
        else:
            verify_login(settings)
            return
    if len(reasons) == 1:
        raise NoBrokerError(settings.kafka_bootstrap, [reasons[0][1]])
    raise NoBrokerError(settings.kafka_bootstrap, [f"{a}: {why}" for a, why in reasons])


def one_partition_records(consumer: KafkaConsumer, topic: str) -> Iterator[Any]:
    """Every record of the one-partition ``topic`` there now, in order: the state a
    compacted topic (rules, models) holds for a command to read."""
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    end = consumer.end_offsets([partition])[partition]
    while consumer.position(partition) < end:
        yield from consumer.poll(timeout_ms=1000).get(partition, [])
