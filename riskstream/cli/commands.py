"""riskstream's own CLI commands, registered on the Faust app."""

from __future__ import annotations

import faust
from faust.cli import AppCommand, argument, option

from riskstream.cli.acls import register_acls
from riskstream.cli.audit import register_audit
from riskstream.cli.broker import require_broker
from riskstream.cli.command import Command
from riskstream.cli.models import register_models
from riskstream.cli.offline import register_offline
from riskstream.cli.profiles import register_profiles
from riskstream.cli.scorer import register_scorer
from riskstream.cli.simulate import register_simulate
from riskstream.cli.token import register_token
from riskstream.streams.settings import get_settings
from riskstream.streams.topics import catalog, create_topics


def register(app: faust.App) -> None:
    for add in (
        register_offline,
        register_simulate,
        register_token,
        register_audit,
        register_acls,
        register_profiles,
        register_models,
        register_scorer,
    ):
        add(app)

    @app.command(
        argument("action", type=str),
        argument("target", type=str, required=False, default=""),
        option("--entity-type", type=str, default="account"),
        option("--entity-id", type=str, default=None),
        option("--kind", type=str, default=None, help="freeze|block|limit|step_up|review|allow"),
        option("--reason", type=str, default=None),
        option("--operator", type=str, default=None),
        option("--ttl", type=str, default="24h"),
        option("--per-transaction-limit", type=str, default=None),
        option("--daily-limit", type=str, default=None),
        base=Command,
    )
    async def penalties(
        self: AppCommand,
        action: str,
        target: str,
        entity_type: str,
        entity_id: str | None,
        kind: str | None,
        reason: str | None,
        operator: str | None,
        ttl: str,
        per_transaction_limit: str | None,
        daily_limit: str | None,
    ) -> None:
        """Penalty center: list | add --entity-id ... --kind ... --reason ... --operator ...
        | remove PENALTY_ID --operator ... --reason ..."""
        from riskstream.cli import penalties as penalties_cli  # noqa: PLC0415

        settings = get_settings()
        try:
            if action == "list":
                penalties_cli.listing(settings, self.say)
            elif action == "add":
                fields = {
                    "entity_type": entity_type, "entity_id": entity_id, "kind": kind,
                    "reason": reason, "ttl": ttl,
                    "per_transaction_limit": per_transaction_limit, "daily_limit": daily_limit,
                }  # fmt: skip
                added = penalties_cli.add(
                    settings, {k: v for k, v in fields.items() if v}, operator
                )
                self.say(f"added {added}")
            elif action == "remove" and target and operator and reason:
                penalties_cli.remove(settings, target, operator, reason)
                self.say(f"removed {target}")
            else:
                raise self.UsageError("use: list | add ... | remove ID --operator X --reason Y")
        except penalties_cli.PenaltyCommandError as error:
            raise SystemExit(f"refused: {error}") from None

    @app.command(
        argument("action", type=str),
        argument("targets", nargs=-1),
        base=Command,
    )
    async def rules(self: AppCommand, action: str, targets: tuple[str, ...]) -> None:
        """Rules: validate [PATHS] | push PATHS | list | show ID | enable|shadow|disable ID
        | delete ID | schema | pending | approve ID | reject ID [REASON]. With approval
        required, a change is proposed and published once a second admin approves it."""
        from riskstream.cli import rule_changes  # noqa: PLC0415
        from riskstream.cli import rules as rules_cli  # noqa: PLC0415

        try:
            rule_changes.run_action(get_settings(), action, list(targets), self.say)
        except rules_cli.RulesCommandError as error:
            raise SystemExit(str(error)) from None
        except ValueError as error:
            raise self.UsageError(str(error)) from None

    @app.command(argument("action", type=str, default="create", required=False), base=Command)
    async def topics(self: AppCommand, action: str) -> None:
        """Create (idempotently) or list riskstream's topics."""
        settings = get_settings()
        if action == "create":
            require_broker(settings)
            for name, result in create_topics(settings).items():
                self.say(f"{name}: {result}")
        elif action == "list":
            for spec in catalog(settings):
                policy = "compact" if spec.compacted else "delete"
                self.say(f"{spec.name}\t{spec.partitions} partitions\t{policy}\t{spec.purpose}")
        else:
            raise self.UsageError(f"unknown action {action!r}: use create or list")

    @app.command(
        option("--accounts", type=int, default=600, help="Simulated customers."),
        option("--rate", type=float, default=400.0, help="Events per second."),
        option("--linger", type=float, default=5.0, help="Seconds to wait for late signals."),
        base=Command,
    )
    async def demo(self: AppCommand, accounts: int, rate: float, linger: float) -> None:
        """Run a worker, produce simulated traffic with fraud, print the signals."""
        from riskstream.cli.demo import run_demo  # noqa: PLC0415 - heavy, demo only

        settings = get_settings()
        require_broker(settings)
        run_demo(settings, accounts=accounts, rate=rate, linger_s=linger)
