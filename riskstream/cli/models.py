"""``riskstream model ...``: the command line of ``cli/model_deploy.py``."""

from __future__ import annotations

import faust
from faust.cli import AppCommand, argument, option

from riskstream.cli.command import USAGE_EXIT, Command, fail
from riskstream.streams.settings import get_settings


def register_models(app: faust.App) -> None:
    @app.command(
        argument("action", type=str),
        argument("targets", nargs=-1),
        option("--mode", type=str, default=None, help="active|shadow (deploy)"),
        option("--operator", type=str, default=None, help="Who acts (the audit trail's actor)."),
        option("--reason", type=str, default=None, help="Why (the audit trail's reason)."),
        base=Command,
    )
    async def model(
        self: AppCommand,
        action: str,
        targets: tuple[str, ...],
        mode: str | None,
        operator: str | None,
        reason: str | None,
    ) -> None:
        """Learned models on risk.models: deploy FILE --mode active|shadow | retire
        MODEL_ID | list. Each change is an audit line first; deploying a model active
        retires the one active before it."""
        # Heavy (LightGBM), and only this command needs it.
        from riskstream.cli import model_deploy  # noqa: PLC0415

        options = {"mode": mode, "operator": operator, "reason": reason}
        try:
            model_deploy.run_action(get_settings(), action, list(targets), options, self.say)
        except model_deploy.ModelCommandError as error:
            fail(self.ctx.command_path, str(error), USAGE_EXIT)
        except ValueError as error:
            raise self.UsageError(str(error)) from None
