"""Offline commands: replay and backtest, no broker needed."""

from __future__ import annotations

from pathlib import Path

import faust
from faust.cli import AppCommand, argument, option
from rich.console import Console

from riskstream.streams.settings import get_settings


def register_offline(app: faust.App) -> None:
    @app.command(
        argument("events", type=str),
        option("--signals", type=str, default=None, help="Write signals here (JSONL)."),
        option("--decisions", type=str, default=None, help="Write decisions here (JSONL)."),
        option("--shadow", type=str, default=None, help="Write shadow rules' signals here."),
        option("--rules", type=str, default=None, help="Rule files or a directory of them."),
    )
    async def replay(
        self: AppCommand,
        events: str,
        signals: str | None,
        decisions: str | None,
        shadow: str | None,
        rules: str | None,
    ) -> None:
        """Replay a JSONL file of events offline, in event-time order, through the same
        rule engine and scorer as the workers; no broker needed."""
        from riskstream.agents.cep.compiler import RuleError  # noqa: PLC0415
        from riskstream.agents.scoring import policy_from  # noqa: PLC0415
        from riskstream.offline.run import ReplayOutputs, replay_file, summary_table  # noqa: PLC0415

        outputs = ReplayOutputs(
            signals=Path(signals) if signals else None,
            decisions=Path(decisions) if decisions else None,
            shadow=Path(shadow) if shadow else None,
        )
        policy = policy_from(get_settings())
        try:
            stats, bad = replay_file(Path(events), outputs, Path(rules) if rules else None, policy)
        except (OSError, RuleError) as error:
            raise SystemExit(f"replay: {error}") from None
        Console(stderr=True).print(summary_table(stats, bad))
