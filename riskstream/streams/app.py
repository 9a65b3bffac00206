"""The Faust application: broker, RocksDB store, web server, and topic bootstrap."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import faust
from faust.types import ProducerT, TransportT
from faust.utils.terminal import SpinnerHandler

from riskstream.streams.consumer_fetch import Transport
from riskstream.streams.diagnostics import install_task_dump
from riskstream.streams.kafka_security import faust_credentials
from riskstream.streams.producer_buffer import DrainingProducerBuffer
from riskstream.streams.recovery import RiskTableManager
from riskstream.streams.settings import Settings
from riskstream.streams.topics import create_topics

log = logging.getLogger(__name__)


class RiskApp(faust.App):
    """A Faust app that knows riskstream's settings and creates its topics at start."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        self.settings = settings
        self.pipeline: Any = None  # set by riskstream.app.create_app
        self.scorer: Any = None
        self.score_router: Any = None
        self.history_cron: Any = None
        self.fetch_max_wait_ms = settings.fetch_max_wait_ms  # read by consumer_fetch
        super().__init__(settings.app_id, **options)

    def _new_transport(self) -> TransportT:
        return Transport(self.conf.broker_consumer, self)

    def _new_producer(self) -> ProducerT:
        producer = super()._new_producer()
        # Offsets are committed after the producer's flush; it must leave no state
        # write behind (see DrainingProducerBuffer).
        buffer = DrainingProducerBuffer(loop=producer.loop, beacon=producer.beacon)
        buffer.app = self
        producer.buffer = buffer
        return producer

    def on_rebalance_start(self) -> None:
        super().on_rebalance_start()
        self._stop_holding()

    async def _consumer_wait_empty(self, consumer: Any, logger: Any) -> None:
        # Events held until their time is final are let go, not waited for: they come
        # again from the committed offsets (a stop takes this path too).
        if self.pipeline is not None:
            await self.pipeline.let_go()
        await super()._consumer_wait_empty(consumer, logger)

    async def _on_partitions_assigned(self, assigned: Any, generation_id: int = 0) -> None:
        # What comes from here on is read from the committed offsets again.
        if self.pipeline is not None and not self.should_stop:
            self.pipeline.resume_holding()
        await super()._on_partitions_assigned(assigned, generation_id)

    def _stop_holding(self) -> None:
        if self.pipeline is not None:
            self.pipeline.stop_holding()

    async def on_first_start(self) -> None:
        await super().on_first_start()
        quiet_root_logger()
        install_task_dump(asyncio.get_running_loop(), self)
        # Before the consumer subscribes, so Faust never auto-creates an input topic
        # with the wrong partition count or cleanup policy.
        await asyncio.get_running_loop().run_in_executor(None, create_topics, self.settings)


def quiet_root_logger(root: logging.Logger | None = None) -> None:
    """Undo the DEBUG level Faust's start-up spinner leaves on the root logger.

    At ``-l warn`` and above the worker lowers the root logger to DEBUG for its
    spinner, so every debug call of aiokafka and Faust (several per message sent)
    builds a record that no handler prints: ~8% of a busy worker's event loop.
    """
    root = root or logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, SpinnerHandler)]:
        root.removeHandler(handler)
    levels = [handler.level for handler in root.handlers]
    if levels and min(levels) > root.level:
        root.setLevel(min(levels))


class WebCertificateError(ValueError):
    """The web server's certificate or key cannot be loaded (the message says which)."""


def server_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The web server's TLS context when a certificate is configured (TLS 1.2 at least)."""
    if settings.web_ssl_cert_file is None or settings.web_ssl_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.web_ssl_cert_file, settings.web_ssl_key_file)
    except OSError as error:  # ssl.SSLError is one; its own text names no file
        raise WebCertificateError(
            f"RISKSTREAM_WEB_SSL_CERT_FILE / RISKSTREAM_WEB_SSL_KEY_FILE cannot be loaded:"
            f" {error.strerror or error}"
        ) from None
    return context


def create_faust_app(settings: Settings) -> RiskApp:
    """A bare app from settings; agents, tables and views are added by the caller."""
    scheme = "https" if settings.web_ssl_cert_file is not None else "http"
    return RiskApp(
        settings,
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
        broker_credentials=faust_credentials(settings),
        store="rocksdb://",
        datadir=str(settings.data_dir),
        web_enabled=True,
        web_port=settings.web_port,
        web_bind=settings.web_bind or settings.web_host,
        web_host=settings.web_host,
        web_ssl_context=server_ssl_context(settings),
        canonical_url=f"{scheme}://{settings.web_host}:{settings.web_port}",
        # Faust's own views show raw table state and the cluster's layout; the guard
        # (riskstream.web.guard) lets admins only at them.
        web_router_enabled=settings.web_debug_views,
        web_tables_enabled=settings.web_debug_views,
        web_graph_enabled=settings.web_debug_views,
        web_stats_enabled=False,  # would take /stats/ from riskstream's console
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        processing_guarantee=settings.processing_guarantee,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_interval=settings.commit_interval_s,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        table_standby_replicas=settings.standby_replicas,
        producer_compression_type=(
            None if settings.kafka_compression == "none" else settings.kafka_compression
        ),
        autodiscover=False,
        TableManager=RiskTableManager,
        key_serializer="raw",
        value_serializer="raw",
        # A busy entity's record can pass Kafka's 1 MB default (the changelog topics are
        # created with the same limit: tables.faust_tables).
        producer_max_request_size=settings.state_record_max_bytes,
        # Not the record limit: a poll decodes everything fetched, and 8 MiB a partition
        # held ~230 MiB while the entity stage caught up a re-key backlog. A record over
        # the fetch size still comes whole (the broker returns the first batch, KIP-74).
        consumer_max_fetch_size=settings.fetch_partition_max_bytes,
    )
