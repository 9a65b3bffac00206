"""The Faust tables (RocksDB-backed, changelogged) that hold riskstream's state.

Values are raw bytes: the native core's versioned state records (``native/src/codec.rs``),
which only the core reads and writes. Faust would take a serializer from the value
type's Faust options, which our types lack (faust-streaming #556).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

ACCOUNT_STATE = "account-state"
ENTITY_STATE = "entity-state"


class RecordTable:
    """A bytes-valued Faust table of the core's state records, keyed by bytes."""

    def __init__(self, table: Any) -> None:
        self.table = table


async def topic_partitions(app: faust.App, topic: str) -> int:
    """How many partitions ``topic`` has, from the producer's metadata (fetched if need be).

    A table that partitions its keys itself (``use_partitioner``) asks the producer
    for a key's partition synchronously, from metadata the producer fetches only when
    it first sends to the topic; until then every write fails (aiokafka's partitioner
    finds no partitions). Fetching it first avoids that.
    """
    while True:
        try:
            # Faust exposes no call for it; its aiokafka producer does.
            producer: Any = app.producer
            return len(await producer._ensure_producer().partitions_for(topic))
        except KafkaError as error:
            log.warning("no metadata for %s yet, retrying: %r", topic, error)
            await asyncio.sleep(1)


async def await_changelog_metadata(app: faust.App, table: RecordTable) -> None:
    """Wait until the producer knows the partitions of the table's changelog topic."""
    await topic_partitions(app, table.table.changelog_topic.get_topic_name())


def _table(
    app: faust.App,
    name: str,
    partitions: int,
    help_text: str,
    *,
    use_partitioner: bool,
    record_max: int | None,
) -> Any:
    return app.Table(
        name,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        help=help_text,
        use_partitioner=use_partitioner,
        extra_topic_configs={"max.message.bytes": str(record_max)} if record_max else None,
    )


def account_state_table(
    app: faust.App, partitions: int, record_max: int | None = None
) -> RecordTable:
    """Rule state per account, keyed by the account id (the input topics' message key)."""
    # Changelog writes follow the partition the event came on: upstream producers may
    # use another partitioner than ours (librdkafka's default is not murmur2).
    table = _table(
        app, ACCOUNT_STATE, partitions, "Rule state per account.", use_partitioner=False,
        record_max=record_max,
    )  # fmt: skip
    return RecordTable(table)


def entity_state_table(
    app: faust.App, partitions: int, record_max: int | None = None
) -> RecordTable:
    """Rule state per other entity (device, IP, counterparty ...), keyed by the re-key
    topic's message key: ``<key expression>\\x1f<key value>``."""
    # We produce the re-key topic ourselves, with the partitioner Faust also uses for
    # changelogs, so records can be deleted outside a stream (the janitor does).
    table = _table(
        app, ENTITY_STATE, partitions, "Rule state per device, IP, merchant ...",
        use_partitioner=True, record_max=record_max,
    )  # fmt: skip
    return RecordTable(table)
