"""``riskstream acls``: the ACL table of each component, printed or granted."""

from __future__ import annotations

import faust
from faust.cli import AppCommand, argument, option

from riskstream.cli.broker import require_broker
from riskstream.cli.command import Command, fail
from riskstream.streams.acls import AclError, apply_acls, parse_principals, render_table
from riskstream.streams.settings import get_settings


def register_acls(app: faust.App) -> None:
    @app.command(
        argument("action", type=str),
        option(
            "--principal",
            "principals",
            type=str,
            multiple=True,
            help="ROLE=NAME: grant ROLE's part to NAME (default User:riskstream-ROLE).",
        ),
        base=Command,
    )
    async def acls(self: AppCommand, action: str, principals: tuple[str, ...]) -> None:
        """Kafka ACLs of each component: list (the table) | apply (grant it on the
        cluster, logged in as a user that may alter ACLs) [--principal ROLE=NAME ...]."""
        settings = get_settings()
        path = self.ctx.command_path
        try:
            chosen = parse_principals(principals)
            if action == "list":
                self.say(render_table(settings, chosen))
            elif action == "apply":
                require_broker(settings)
                count = apply_acls(settings, chosen)
                self.say(f"applied {count} ACLs for {len(chosen)} principals")
            else:
                raise self.UsageError(f"unknown action {action!r}: use list or apply")
        except AclError as error:
            fail(path, str(error))
