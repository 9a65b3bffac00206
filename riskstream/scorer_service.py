"""Assembles a scorer process (``riskstream scorer``): the real-time engine on its own.

A scorer answers ``POST /score/`` as a worker does, from the same code
(``agents/scorer.py``), but processes no input stream: it follows the topics the
workers and operators write (rules, signals, verdicts, penalties, models, profiles,
decisions, and the account-state changelog) outside any consumer group, so any number
of instances run side by side behind a load balancer, each answering any account. A
plain aiohttp server and aiokafka clients: no Faust app, no agents, no rebalances
(docs/adr/0009-scorer-process.md).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer

from riskstream.agents.account_replica import AccountReplica
from riskstream.agents.rule_center import RuleCenter, follow_rules_topic
from riskstream.agents.scorer import Scorer
from riskstream.agents.scorer_host import Work
from riskstream.agents.scorer_routes import scorer_routes
from riskstream.rules.loader import default_pack, default_score_rules
from riskstream.streams.app import WebCertificateError, server_ssl_context
from riskstream.streams.follow import follow_partitions, follower_options
from riskstream.streams.freshness import Freshness
from riskstream.streams.kafka_security import client_options
from riskstream.streams.settings import Settings
from riskstream.streams.topics import changelog_topic_name
from riskstream.tables.faust_tables import ACCOUNT_STATE
from riskstream.web.guard import Guard

log = logging.getLogger(__name__)


class ScorerProcessError(Exception):
    """The scorer cannot start as configured (the message says why, in one line)."""


class ServiceHost:
    """The scorer in a process of its own: asyncio tasks, an aiokafka producer, and the
    account state from the changelog replica. Other instances may judge the same event
    id at the same time: answers are confirmed on the decisions topic (unless the
    settings say no two can be asked the same one at once)."""

    def __init__(
        self, producer: AIOKafkaProducer, replica: AccountReplica, confirms: bool = True
    ) -> None:
        self.confirms_decisions = confirms
        self.producer = producer
        self.replica = replica
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, name: str, work: Work) -> None:
        task = asyncio.get_running_loop().create_task(work(), name=name)
        self.tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scorer task %s ended: %r", task.get_name(), task.exception())

    async def partitions(self, topic: str) -> int:
        return len(await self.producer.partitions_for(topic))

    async def send(
        self,
        topic: str,
        key: bytes,
        value: bytes | None,
        partition: int | None = None,
        *,
        acked: bool = True,
    ) -> None:
        delivery = await self.producer.send(topic, value, key=key, partition=partition)
        if acked:
            await delivery
        else:
            delivery.add_done_callback(functools.partial(_delivered, topic))

    def account_record(self, account_id: str) -> bytes | None:
        return self.replica.get(account_id)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _delivered(topic: str, delivery: asyncio.Future[Any]) -> None:
    if not delivery.cancelled() and delivery.exception() is not None:
        log.error("a record for %s was not stored: %r", topic, delivery.exception())


def _guard(settings: Settings) -> Guard:
    try:
        return Guard.from_settings(settings)
    except (OSError, ValueError) as error:  # an unreadable or unfit public key file
        raise ScorerProcessError(f"RISKSTREAM_AUTH_JWT_PUBLIC_KEYS_FILE: {error}") from None


async def serve_scorer(settings: Settings, port: int, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set (or the task is cancelled)."""
    guard = _guard(settings)
    try:
        tls = server_ssl_context(settings)
    except WebCertificateError as error:
        raise ScorerProcessError(str(error)) from None
    freshness = Freshness()
    replica = AccountReplica(settings.data_dir / f"scorer-{port}", settings.scorer_store_mb)
    compression = settings.kafka_compression
    producer = AIOKafkaProducer(
        **client_options(settings),
        acks="all",
        linger_ms=0,
        compression_type=None if compression == "none" else compression,
    )
    host = ServiceHost(producer, replica, settings.scorer_confirm_decisions)
    runner: web.AppRunner | None = None
    try:
        await producer.start()
        center = RuleCenter(
            default_pack() if settings.load_pack else [],
            default_score_rules() if settings.load_pack else [],
            approval_required=settings.rules_approval == "required",
        )
        connection = follower_options(settings)
        names = settings.topics

        def rules() -> Coroutine[Any, Any, None]:
            return follow_rules_topic(
                center, connection, names.rules,
                suspensions=names.rule_suspensions, freshness=freshness,
            )  # fmt: skip

        host.start("follow_rules", rules)
        accounts = changelog_topic_name(settings.app_id, ACCOUNT_STATE)

        def account_state() -> Coroutine[Any, Any, None]:
            return follow_partitions(
                connection, accounts, replica.apply_record, replica.ready,
                freshness=freshness.topic(accounts),
            )  # fmt: skip

        host.start("follow_account_state", account_state)
        scorer = Scorer(host, settings, center, freshness=freshness)
        scorer.also_ready.append(replica.ready)
        app = web.Application(middlewares=[guard.middleware])
        app.add_routes(scorer_routes(scorer, freshness, replica))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        bind = settings.web_bind or settings.web_host
        site = web.TCPSite(runner, bind, port, ssl_context=tls)
        try:
            await site.start()
        except OSError as error:
            raise ScorerProcessError(f"cannot serve on {bind}:{port}: {error.strerror}") from None
        log.info("scorer serving on %s:%s", bind, port)
        await (stop or asyncio.Event()).wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await host.stop()
        await producer.stop()
        replica.close()
