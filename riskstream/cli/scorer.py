"""``riskstream scorer``: the real-time engine as a process of its own."""

from __future__ import annotations

import asyncio

import click
import faust
from faust.cli import AppCommand, option

from riskstream.cli.broker import require_broker
from riskstream.cli.command import USAGE_EXIT, Command, fail
from riskstream.scorer_service import ScorerProcessError, serve_scorer
from riskstream.streams.redaction import missing_token_secret
from riskstream.streams.settings import get_settings


def register_scorer(app: faust.App) -> None:
    @app.command(
        option(
            "--port",
            type=click.IntRange(1, 65535),
            default=None,
            help="Port to serve on (default RISKSTREAM_SCORER_PORT, 6067).",
        ),
        base=Command,
    )
    async def scorer(self: AppCommand, port: int | None) -> None:
        """Run a scorer: POST /score/ and the scoring reads, from the topics, with no
        stream processing; any number run behind a load balancer (docs/deployment.md)."""
        settings = get_settings()
        path = self.ctx.command_path
        refused = missing_token_secret(settings)
        if refused is not None:
            fail(path, refused, USAGE_EXIT)
        if settings.token_secret is None:
            click.echo(f"{path}: development: tokens use the published secret", err=True)
        require_broker(settings)
        try:
            await serve_scorer(settings, port or settings.scorer_port)
        except ScorerProcessError as error:
            fail(path, str(error), USAGE_EXIT)
        except asyncio.CancelledError:  # stopped (SIGTERM, Ctrl-C)
            return
