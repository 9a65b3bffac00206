"""The guard in front of every route of the worker's web server (an aiohttp middleware).

Public routes pass. A forwarded score request must carry a valid worker signature;
anything else needs a bearer credential whose roles cover the route (401 without one,
403 with the wrong roles), and a write must be JSON (415). The identity it finds is
what the views use, e.g. as the actor of an audit line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import faust
from aiohttp import web

from riskstream.streams.codec import dumps
from riskstream.streams.settings import Settings
from riskstream.web.credentials import (
    NO_CREDENTIALS_CONFIGURED,
    Credentials,
    UnauthenticatedError,
)
from riskstream.web.identity import Identity
from riskstream.web.peer import PEER_HEADERS, ROUTED_HEADER, PeerRefusedError, verify
from riskstream.web.policy import json_write_refusal, required_role

log = logging.getLogger(__name__)
IDENTITY_KEY = web.RequestKey("riskstream.identity", Identity)
REALM = "riskstream"
FORWARDED_ROUTE = ("POST", "/score/")
_UNQUOTABLE = re.compile(r'["\\\x00-\x1f\x7f]')

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refusal(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=dumps({"error": message}),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _unauthenticated(error: UnauthenticatedError) -> web.Response:
    challenge = f'Bearer realm="{REALM}"'
    if error.error:
        description = _UNQUOTABLE.sub("'", str(error))
        challenge += f', error="{error.error}", error_description="{description}"'
    return _refusal(401, str(error), {"WWW-Authenticate": challenge})


class Guard:
    def __init__(self, credentials: Credentials, internal_secret: bytes | None) -> None:
        self.credentials = credentials
        self.internal_secret = internal_secret

    @classmethod
    def from_settings(cls, settings: Settings) -> Guard:
        secret = settings.internal_secret
        return cls(
            Credentials.from_settings(settings),
            secret.get_secret_value().encode() if secret is not None else None,
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.http_exception is not None:
            return await handler(request)  # no such route or method: aiohttp's 404 / 405
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else ""
        role = required_role(request.method, route)
        forwarded = any(name in request.headers for name in PEER_HEADERS)
        if role is None and not forwarded:
            return await handler(request)
        try:
            identity = await self._identify(request, route, forwarded)
        except UnauthenticatedError as error:
            return _unauthenticated(error)
        except PeerRefusedError as error:
            return _refusal(403, str(error))
        if role is not None and not identity.holds(role):
            return _refusal(403, f"{request.method} {route} needs the {role} role")
        refusal = json_write_refusal(request.method, request.headers.get("Content-Type"))
        if refusal is not None:
            return _refusal(415, refusal)
        request[IDENTITY_KEY] = identity
        return await handler(request)

    async def _identify(self, request: web.Request, route: str, forwarded: bool) -> Identity:
        if not forwarded:
            return self.credentials.authenticate(request.headers.get("Authorization"))
        if (request.method, route) != FORWARDED_ROUTE:
            raise PeerRefusedError(f"{ROUTED_HEADER} is for forwarded score requests only")
        return verify(self.internal_secret, request.headers, await request.read())


def install_guard(app: faust.App, settings: Settings) -> Guard:
    """Put the guard in front of every route of ``app``'s web server (before it starts)."""
    try:
        guard = Guard.from_settings(settings)
    except (OSError, ValueError) as error:  # an unreadable or unfit public key file
        raise SystemExit(f"riskstream: RISKSTREAM_AUTH_JWT_PUBLIC_KEYS_FILE: {error}") from None
    if not guard.credentials.configured:

        async def say_no_credentials() -> None:  # when a worker starts, not for each command
            log.warning("%s; all but /health/ and /metrics answer 401", NO_CREDENTIALS_CONFIGURED)

        app.task(say_no_credentials)
    server = getattr(app.web, "web_app", None)
    if not isinstance(server, web.Application):
        raise TypeError("the guard needs Faust's aiohttp web driver")
    server.middlewares.append(guard.middleware)
    return guard


def identity_of(request: object) -> Identity:
    """The caller of a request the guard let through."""
    if not isinstance(request, web.Request):
        raise TypeError("the guard needs Faust's aiohttp web driver")
    return request[IDENTITY_KEY]
