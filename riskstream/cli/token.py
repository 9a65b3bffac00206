"""``riskstream token create``: a bearer token signed with the configured HS256 secret."""

from __future__ import annotations

import re
from typing import cast

import faust
from faust.cli import AppCommand, argument, option

from riskstream.cli.command import Command, fail
from riskstream.streams.access import ROLES, SUBJECT_PATTERN, Role
from riskstream.streams.rule_model import DurationTooLongError, parse_duration
from riskstream.streams.settings import Settings, get_settings
from riskstream.web.tokens import mint


class TokenCommandError(Exception):
    """Refused: no token was made; the message says why."""


def create(settings: Settings, roles: tuple[str, ...], subject: str, ttl: str) -> str:
    if settings.auth_jwt_secret is None:
        raise TokenCommandError("no RISKSTREAM_AUTH_JWT_SECRET is set to sign with")
    unknown = sorted(set(roles) - ROLES)
    if not roles or unknown:
        raise TokenCommandError(
            f"--role takes {', '.join(sorted(ROLES))}, repeated for several"
            + (f"; not {', '.join(map(repr, unknown))}" if unknown else "")
        )
    if not re.match(SUBJECT_PATTERN, subject):
        raise TokenCommandError("--subject is a plain name: letters, digits and ._@+- only")
    try:
        lifetime = parse_duration(ttl)
        return mint(
            settings.auth_jwt_secret.get_secret_value(),
            subject,
            cast(tuple[Role, ...], roles),  # checked above
            lifetime,
            audience=settings.auth_jwt_audience,
            issuer=settings.auth_jwt_issuer,
        )
    except (OverflowError, DurationTooLongError):
        raise TokenCommandError(f"--ttl: {ttl} is too long (30d at most)") from None
    except ValueError as error:
        raise TokenCommandError(f"--ttl: {error}") from None


def register_token(app: faust.App) -> None:
    @app.command(
        argument("action", type=str),
        option("--role", "roles", type=str, multiple=True, help="scorer|analyst|operator|admin"),
        option("--subject", type=str, default=None, help="Who the token names (audit actor)."),
        option("--ttl", type=str, default="1h", help="Lifetime: 15m, 8h, 7d (30d at most)."),
        base=Command,
    )
    async def token(
        self: AppCommand, action: str, roles: tuple[str, ...], subject: str | None, ttl: str
    ) -> None:
        """Bearer tokens: create --role ROLE --subject NAME [--ttl 1h], signed with
        RISKSTREAM_AUTH_JWT_SECRET; prints the token alone."""
        if action != "create" or not subject:
            raise self.UsageError("use: create --role ROLE --subject NAME [--ttl 1h]")
        try:
            self.say(create(get_settings(), roles, subject, ttl))
        except TokenCommandError as error:
            fail(self.ctx.command_path, str(error))
