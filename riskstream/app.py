"""Assembles the worker: app, tables, agents, console, metrics."""

from __future__ import annotations

from faust.sensors.prometheus import setup_prometheus_sensors

from riskstream.agents.console import register_console
from riskstream.agents.detectors.base import config_from_settings
from riskstream.agents.engine import DetectionEngine
from riskstream.agents.ingest import IngestPipeline
from riskstream.streams.app import RiskApp, create_faust_app
from riskstream.streams.settings import Settings, get_settings
from riskstream.tables.faust_tables import account_state_table


def create_app(settings: Settings | None = None) -> RiskApp:
    settings = settings or get_settings()
    app = create_faust_app(settings)
    table = account_state_table(app, settings.partitions)
    engine = DetectionEngine(config_from_settings(settings))
    pipeline = IngestPipeline(app, settings, engine, table)
    app.pipeline = pipeline
    register_console(app, pipeline)
    setup_prometheus_sensors(app)
    return app
