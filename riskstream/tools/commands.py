"""riskstream's own CLI commands, registered on the Faust app."""

from __future__ import annotations

import faust
from faust.cli import argument, option

from riskstream.streams.settings import get_settings
from riskstream.streams.topics import catalog, create_topics


def register(app: faust.App) -> None:
    @app.command(argument("action", type=str, default="create", required=False))
    async def topics(self: faust.cli.AppCommand, action: str) -> None:
        """Create (idempotently) or list riskstream's topics."""
        settings = get_settings()
        if action == "create":
            for name, result in create_topics(settings).items():
                self.say(f"{name}: {result}")
        elif action == "list":
            for spec in catalog(settings):
                policy = "compact" if spec.compacted else "delete"
                self.say(f"{spec.name}\t{spec.partitions} partitions\t{policy}\t{spec.purpose}")
        else:
            raise self.UsageError(f"unknown action {action!r}: use create or list")

    _ = option
