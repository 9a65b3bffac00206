"""Keeps state bounded: records that can no longer matter are deleted.

A re-keyed entity's record (device, IP, merchant ...) goes when the entity has been
silent longer than the retention (dormancy and baselines need a long memory, so the
default is generous), or when no rule in force uses its key any more. An account's
record goes when the account has been silent longer than the retention; it is stored
under the partition its events arrive on, which only a stream may write, so the sweep
hands those deletes to the ingest stream (``IngestPipeline.schedule_account_deletes``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import faust

from riskstream.agents.cep.compiler import RuleSet
from riskstream.agents.ingest import IngestPipeline
from riskstream.agents.rekey import KEY_SEPARATOR
from riskstream.core import state_last_seen
from riskstream.streams.settings import Settings
from riskstream.tables.faust_tables import await_changelog_metadata

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


def sweep(table: Any, *, rekeyed: bool, rules: RuleSet, now_ms: int, retention_ms: int) -> int:
    """Delete the expired records of the partitions this worker owns; returns how many."""
    doomed = [
        key
        for key, raw in table.items()
        if expired(key, raw, rekeyed=rekeyed, rules=rules, now_ms=now_ms, retention_ms=retention_ms)
    ]
    for key in doomed:
        del table[key]
    return len(doomed)


def expired_accounts(
    table: Any, owned: set[int], *, rules: RuleSet, now_ms: int, retention_ms: int
) -> dict[int, list[bytes]]:
    """Expired account records of the ``owned`` partitions, by the partition they are
    stored under (Faust's RocksDB store keeps one database per partition)."""
    store = table.data
    databases = getattr(store, "_dbs", None)
    if databases is None:
        return {}  # not a RocksDB store: no partition to find
    found: dict[int, list[bytes]] = {}
    for partition, database in list(databases.items()):
        if partition not in owned:
            continue
        keys = [
            key
            for key, raw in store._visible_items(database)
            if expired(
                key, raw, rekeyed=False, rules=rules, now_ms=now_ms, retention_ms=retention_ms
            )
        ]
        if keys:
            found[partition] = keys
    return found


def owned_partitions(app: faust.App, table: Any) -> set[int]:
    """Partitions of the table's changelog this worker is the active owner of."""
    topic = table.changelog_topic.get_topic_name()
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}


def register_janitor(app: faust.App, pipeline: IngestPipeline, settings: Settings) -> None:
    retention_ms = int(settings.entity_retention_days * 86_400_000)

    @app.timer(interval=settings.cleanup_interval_s)  # type: ignore[untyped-decorator]
    async def expire_entities() -> None:
        if not pipeline.center.ready.is_set():
            return
        rules = pipeline.center.ruleset
        await await_changelog_metadata(app, pipeline.entities)  # deletes are writes too
        now_ms = int(time.time() * 1000)
        removed = sweep(
            pipeline.entities.table, rekeyed=True, rules=rules, now_ms=now_ms,
            retention_ms=retention_ms,
        )  # fmt: skip
        if removed:
            log.info("expired %d idle entity records", removed)
        accounts = pipeline.accounts.table
        doomed = expired_accounts(
            accounts, owned_partitions(app, accounts), rules=rules, now_ms=now_ms,
            retention_ms=retention_ms,
        )  # fmt: skip

        def still_expired(key: bytes, raw: bytes) -> bool:
            now_ms = int(time.time() * 1000)
            return expired(
                key, raw, rekeyed=False, rules=rules, now_ms=now_ms, retention_ms=retention_ms
            )

        pipeline.schedule_account_deletes(doomed, still_expired)
        if doomed:
            log.info(
                "%d idle account records to delete as their partitions' events come",
                sum(map(len, doomed.values())),
            )
