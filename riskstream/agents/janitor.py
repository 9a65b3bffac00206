"""Keeps state bounded: records that can no longer matter are deleted.

A re-keyed entity's record (device, IP, merchant ...) goes when the entity has been
silent longer than the retention (dormancy and baselines need a long memory, so the
default is generous), or when no rule in force uses its key any more. An account's
record goes when the account has been silent longer than the retention. Each record is
deleted from the partition it is stored under (an account's is the partition its
events arrive on), straight from the sweep.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import faust

from riskstream.agents.cep.compiler import RuleSet
from riskstream.agents.ingest import IngestPipeline
from riskstream.agents.rekey import KEY_SEPARATOR
from riskstream.core import state_last_seen
from riskstream.streams.settings import Settings
from riskstream.tables.faust_tables import RecordTable, await_changelog_metadata

log = logging.getLogger(__name__)


def expired(
    key: bytes, raw: bytes, *, rekeyed: bool, rules: RuleSet, now_ms: int, retention_ms: int
) -> bool:
    """Whether a table record can go. ``raw`` is the record's stored bytes."""
    if rekeyed:
        group = key.decode(errors="replace").split(KEY_SEPARATOR, 1)[0]
        if group not in rules.key_groups:
            return True
    last_seen = state_last_seen(raw)
    if last_seen is None:
        return False  # not a record the core wrote: left for the worker to convert
    return last_seen < now_ms - retention_ms


def expired_keys(
    partitions: Iterable[tuple[int, Iterable[tuple[bytes, bytes]]]],
    *,
    rekeyed: bool,
    rules: RuleSet,
    now_ms: int,
    retention_ms: int,
) -> dict[int, list[bytes]]:
    """The keys of the expired records among (partition, its records), by partition."""
    found: dict[int, list[bytes]] = {}
    for partition, records in partitions:
        keys = [
            key
            for key, raw in records
            if expired(
                key, raw, rekeyed=rekeyed, rules=rules, now_ms=now_ms, retention_ms=retention_ms
            )
        ]
        if keys:
            found[partition] = keys
    return found


async def sweep(
    app: faust.App,
    table: RecordTable,
    *,
    rekeyed: bool,
    rules: RuleSet,
    now_ms: int,
    retention_ms: int,
) -> int:
    """Delete the expired records of the partitions this worker owns; returns how many.

    The scan and the deletes run without a pause between them, so no batch writes a
    record in between; a batch that read a record before and writes it after puts it
    back with its new events, which is what it should be.
    """
    owned = owned_partitions(app, table.table)
    doomed = expired_keys(
        ((partition, records) for partition, records in table.partitions() if partition in owned),
        rekeyed=rekeyed, rules=rules, now_ms=now_ms, retention_ms=retention_ms,
    )  # fmt: skip
    for partition, keys in doomed.items():
        table.put_many(partition, [(key, None) for key in keys])
    await table.send_changelog()
    return sum(map(len, doomed.values()))


def owned_partitions(app: faust.App, table: Any) -> set[int]:
    """Partitions of the table's changelog this worker is the active owner of."""
    topic = table.changelog_topic.get_topic_name()
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}


def register_janitor(app: faust.App, pipeline: IngestPipeline, settings: Settings) -> None:
    retention_ms = int(settings.entity_retention_days * 86_400_000)

    @app.timer(interval=settings.cleanup_interval_s)  # type: ignore[untyped-decorator]
    async def expire_records() -> None:
        if not pipeline.center.ready.is_set():
            return
        rules = pipeline.center.ruleset
        await await_changelog_metadata(app, pipeline.entities)  # deletes are writes too
        await await_changelog_metadata(app, pipeline.accounts)
        now_ms = int(time.time() * 1000)
        for table, rekeyed, what in (
            (pipeline.entities, True, "entity"),
            (pipeline.accounts, False, "account"),
        ):
            removed = await sweep(
                app, table, rekeyed=rekeyed, rules=rules, now_ms=now_ms,
                retention_ms=retention_ms,
            )  # fmt: skip
            if removed:
                log.info("expired %d idle %s records", removed, what)
            if not rekeyed:
                pipeline.stats.accounts_expired += removed
