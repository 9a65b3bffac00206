"""Minting HS256 bearer tokens with the configured shared secret (``riskstream token``)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import timedelta

import jwt

from riskstream.streams.access import Role
from riskstream.web.credentials import ROLES_CLAIM

# A token cannot be revoked before it expires: keep them short-lived.
MAX_TTL = timedelta(days=30)


def mint(
    secret: str,
    subject: str,
    roles: Iterable[Role],
    ttl: timedelta,
    audience: str = "riskstream",
    issuer: str | None = None,
    now: float | None = None,
) -> str:
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"a token lives more than 0 s and at most {MAX_TTL.days} days")
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "sub": subject,
        ROLES_CLAIM: sorted(set(roles)),
        "aud": audience,
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
    }
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")
