"""Assembles the worker: app, tables, rule center, agents, console, metrics."""

from __future__ import annotations

from faust.sensors.prometheus import setup_prometheus_sensors

from riskstream.agents.console import register_console
from riskstream.agents.history_cron import register_history_cron
from riskstream.agents.ingest import IngestPipeline
from riskstream.agents.janitor import register_janitor
from riskstream.agents.rule_center import RuleCenter, follow_rules_topic
from riskstream.agents.rule_metrics import center_version, register_rule_metrics
from riskstream.agents.rule_suspender import RuleSuspender
from riskstream.agents.score_routing import router_from
from riskstream.agents.scorer import Scorer
from riskstream.agents.scorer_host import WorkerHost
from riskstream.agents.scoring_views import register_scoring_views
from riskstream.agents.worker_audit import WorkerAudit, worker_name
from riskstream.rules.loader import default_pack, default_score_rules
from riskstream.streams import quiet_logs
from riskstream.streams.app import RiskApp, create_faust_app
from riskstream.streams.kafka_security import client_options
from riskstream.streams.settings import Settings, get_settings
from riskstream.tables.faust_tables import (
    account_state_table,
    entity_state_table,
)
from riskstream.tables.store_memory import StoreMemory
from riskstream.web.guard import install_guard


def create_app(settings: Settings | None = None) -> RiskApp:
    settings = settings or get_settings()
    app = create_faust_app(settings)
    repeats = quiet_logs.install(settings.log_repeat_interval_s)

    @app.timer(interval=1.0)  # type: ignore[untyped-decorator]
    async def sum_up_repeated_logs() -> None:
        quiet_logs.cover(repeats)  # loggers made since
        repeats.flush()

    center = RuleCenter(
        default_pack() if settings.load_pack else [],
        default_score_rules() if settings.load_pack else [],
        approval_required=settings.rules_approval == "required",
    )
    audit = WorkerAudit(app, settings.topics.audit, worker_name(settings.app_id))

    async def send_suspension(key: bytes, value: bytes) -> None:
        await app.producer.send_and_wait(
            settings.topics.rule_suspensions, key, value,
            partition=None, timestamp=None, headers=None,
        )  # fmt: skip

    suspender = RuleSuspender(center, worker_name(settings.app_id), audit.store, send_suspension)
    # Both tables' databases, every partition, share one RocksDB memory budget.
    memory = StoreMemory(settings.store_mb)
    record_max = settings.state_record_max_bytes
    pipeline = IngestPipeline(
        app,
        settings,
        center,
        account_state_table(app, settings.partitions, record_max, memory),
        entity_state_table(app, settings.partitions, record_max, memory),
        on_slow=suspender.on_slow,
    )
    app.pipeline = pipeline

    @app.task  # type: ignore[untyped-decorator]
    async def rules() -> None:
        await follow_rules_topic(
            center,
            client_options(settings),
            settings.topics.rules,
            suspensions=settings.topics.rule_suspensions,
        )

    host = WorkerHost(app, pipeline.accounts)
    scorer = Scorer(host, settings, center, audit, suspender.on_slow)
    router = router_from(app, pipeline.accounts.table, settings)
    register_scoring_views(app, scorer, router)
    app.scorer = scorer
    app.score_router = router
    register_console(app, pipeline, scorer, router, memory)
    register_janitor(app, pipeline, settings)
    app.history_cron = register_history_cron(app, settings)
    setup_prometheus_sensors(app)
    register_rule_metrics(scorer.quality, center_version(center))
    install_guard(app, settings)
    return app
