"""Sending a score request to the worker that owns the transaction's account.

The account's rule state and daily outgoing total live in a partitioned table, so only
the worker that owns the account's partition has them. Faust's ``@app.table_route``
finds that worker but forwards no request body, so a POST is forwarded here, signed
with the workers' shared secret (``riskstream.web.peer``): the owner answers it as the
caller's, and does not forward it again (two workers can briefly disagree about
ownership during a rebalance).
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import aiohttp
import faust
from yarl import URL

from riskstream.streams.settings import Settings
from riskstream.web.peer import sign

log = logging.getLogger(__name__)
NO_SECRET = (
    "score requests for accounts another worker owns are answered here, without the"
    " account's daily total: set RISKSTREAM_INTERNAL_SECRET on every worker to forward them"
)


class ScoreRouter:
    def __init__(
        self,
        app: faust.App,
        table: Any,
        timeout_s: float = 2.0,
        secret: bytes | None = None,
        trusted: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.table = table
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.secret = secret
        self.trusted = trusted  # None: the system's CAs, for owners that speak HTTPS
        self.forwarded = 0
        self.failed = 0
        self._told_no_secret = False
        self._here_of = ""
        self._here_at: tuple[str | None, int | None] = (None, None)

    def owner(self, account_id: str) -> URL | None:
        """The owning worker's URL, or None when it is this one (or not known yet)."""
        try:
            url: URL = self.app.router.key_store(self.table.name, account_id.encode())
        except (KeyError, AttributeError, TypeError):
            # No assignment or no topic metadata yet (the worker is still starting):
            # answer locally, which at that point means -1 while state recovers.
            return None
        if (url.host, url.port) == self._here():
            return None
        return url

    def _here(self) -> tuple[str | None, int | None]:
        canonical = str(self.app.conf.canonical_url)
        if self._here_of != canonical:  # parsed once, not on every request
            here = URL(canonical)
            self._here_of, self._here_at = canonical, (here.host, here.port)
        return self._here_at

    async def forward(self, owner: URL, body: bytes, caller: str) -> tuple[int, bytes] | None:
        """The owner's answer (status, body) to ``caller``'s request; None if it could not
        be reached or asked."""
        if self.secret is None:
            self.failed += 1
            if not self._told_no_secret:
                self._told_no_secret = True
                log.warning(NO_SECRET)
            return None
        headers = {
            **sign(self.secret, str(self.app.conf.canonical_url), caller, body),
            "Content-Type": "application/json",
        }
        try:
            async with self.app.http_client.post(
                owner.with_path("/score/"), data=body, headers=headers, timeout=self.timeout,
                ssl=self.trusted if self.trusted is not None else True,
            ) as response:  # fmt: skip
                answer = await response.read()
                self.forwarded += 1
                return response.status, answer
        except (TimeoutError, aiohttp.ClientError) as error:
            self.failed += 1
            log.warning("could not forward a score request to %s: %r", owner, error)
            return None


def router_from(app: faust.App, table: Any, settings: Settings) -> ScoreRouter:
    """The worker's router to the owners of ``table``'s keys, with its settings' secret
    and the CAs it trusts."""
    secret = settings.internal_secret
    return ScoreRouter(
        app,
        table,
        secret=secret.get_secret_value().encode() if secret is not None else None,
        trusted=(
            ssl.create_default_context(cafile=settings.web_ssl_ca_file)
            if settings.web_ssl_ca_file is not None
            else None
        ),
    )
