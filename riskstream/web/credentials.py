"""Checking a bearer credential: a signed token (JWT) or a configured API key.

Tokens are verified against the configured keys only: HS256 with the shared secret,
RS256 and ES256 with the public keys; an expiry, a subject and the audience are
required. An API key is looked up by its SHA-256, so the keys themselves are never
configured or kept.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from riskstream.streams.access import ROLES, SUBJECT_PATTERN, Role
from riskstream.streams.settings import Settings
from riskstream.web.identity import Identity

# Tokens minted on one machine are checked on another: allow their clocks to differ.
CLOCK_SKEW_S = 30
MAX_CREDENTIAL_CHARS = 8192
MIN_RSA_BITS = 2048
ROLES_CLAIM = "roles"
# Tokens verified lately, remembered so that a client's every request (a scorer's
# thousands a second, one token) is not verified again: a verification costs ~100-200
# µs, more than the rest of scoring. Bounded: past this many, the oldest is forgotten.
VERIFIED_KEPT = 4096
NO_CREDENTIALS_CONFIGURED = (
    "no credentials are configured on this worker: set RISKSTREAM_AUTH_JWT_SECRET,"
    " RISKSTREAM_AUTH_JWT_PUBLIC_KEYS_FILE or RISKSTREAM_AUTH_API_KEYS"
)
_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)
_SUBJECT = re.compile(SUBJECT_PATTERN)


class UnauthenticatedError(Exception):
    """Answered with 401. The message says what is wrong and never repeats the credential;
    ``error`` is RFC 6750's code, None when no credential was sent."""

    def __init__(self, message: str, error: str | None = "invalid_token") -> None:
        super().__init__(message)
        self.error = error


def load_public_keys(path: Path) -> dict[str, list[Any]]:
    """The PEM public keys in ``path``, by the algorithm each verifies."""
    blocks = _PEM_BLOCK.findall(path.read_bytes())
    if not blocks:
        raise ValueError(f"{path}: no PEM public key (BEGIN PUBLIC KEY) in it")
    keys: dict[str, list[Any]] = {}
    for number, block in enumerate(blocks, start=1):
        key = serialization.load_pem_public_key(block)
        if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
            keys.setdefault("RS256", []).append(key)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            keys.setdefault("ES256", []).append(key)
        else:
            raise ValueError(
                f"{path}: key {number} is neither RSA of {MIN_RSA_BITS} bits or more nor P-256"
            )
    return keys


@dataclass(frozen=True)
class Credentials:
    """What this worker accepts; ``authenticate`` turns a header into an identity."""

    keys: dict[str, list[Any]] = field(default_factory=dict)  # algorithm -> keys
    audience: str = "riskstream"
    issuer: str | None = None
    api_keys: dict[str, tuple[str, frozenset[Role]]] = field(default_factory=dict)
    # SHA-256 of a token -> (its identity, from when until when it is valid): the token
    # itself is not kept, and a remembered one still expires on time.
    _verified: dict[str, tuple[Identity, float, float]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> Credentials:
        keys: dict[str, list[Any]] = {}
        if settings.auth_jwt_secret is not None:
            keys["HS256"] = [settings.auth_jwt_secret.get_secret_value().encode()]
        if settings.auth_jwt_public_keys_file is not None:
            keys.update(load_public_keys(settings.auth_jwt_public_keys_file))
        return cls(
            keys=keys,
            audience=settings.auth_jwt_audience,
            issuer=settings.auth_jwt_issuer,
            api_keys={
                entry.sha256: (entry.subject, frozenset(entry.roles))
                for entry in settings.auth_api_keys
            },
        )

    @property
    def configured(self) -> bool:
        return bool(self.keys or self.api_keys)

    def authenticate(self, authorization: str | None) -> Identity:
        if not self.configured:
            raise UnauthenticatedError(NO_CREDENTIALS_CONFIGURED, error=None)
        if not authorization:
            raise UnauthenticatedError("a bearer token is needed (Authorization: Bearer ...)", None)
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise UnauthenticatedError("the Authorization header must be Bearer <token>")
        if len(credential) > MAX_CREDENTIAL_CHARS:
            raise UnauthenticatedError("the token is too long")
        # Looked up by digest: a lookup's timing tells nothing about a key's preimage.
        known = self.api_keys.get(hashlib.sha256(credential.encode()).hexdigest())
        if known is not None:
            return Identity(subject=known[0], roles=known[1], via="api-key")
        if credential.count(".") != 2 or not self.keys:
            raise UnauthenticatedError("the token is neither a known API key nor a signed token")
        digest = hashlib.sha256(credential.encode()).hexdigest()
        remembered = self._verified.get(digest)
        if remembered is not None:
            identity, valid_from, valid_until = remembered
            if valid_from <= time.time() < valid_until:
                return identity
            del self._verified[digest]  # verified again: it says why it is refused now
        identity, valid_from, valid_until = self._verify_token(credential)
        if len(self._verified) >= VERIFIED_KEPT:
            del self._verified[next(iter(self._verified))]
        self._verified[digest] = (identity, valid_from, valid_until)
        return identity

    def _verify_token(self, token: str) -> tuple[Identity, float, float]:
        """The token's identity, and the times between which PyJWT would accept it
        (``nbf``, ``iat`` and ``exp`` with the allowed skew)."""
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise UnauthenticatedError("the token is malformed") from None
        candidates = self.keys.get(algorithm, []) if isinstance(algorithm, str) else []
        if not candidates or not isinstance(algorithm, str):
            accepted = self._algorithms()
            raise UnauthenticatedError(f"the token's algorithm is not accepted (use {accepted})")
        required = ["exp", "sub", "aud", *(["iss"] if self.issuer else [])]
        for key in candidates:
            try:
                claims = jwt.decode(
                    token, key, algorithms=[algorithm], audience=self.audience,
                    issuer=self.issuer, leeway=CLOCK_SKEW_S, options={"require": required},
                )  # fmt: skip
            except jwt.InvalidSignatureError:
                continue  # another key of the same algorithm may have signed it
            except jwt.ExpiredSignatureError:
                raise UnauthenticatedError("the token has expired") from None
            except jwt.InvalidTokenError as error:
                raise UnauthenticatedError(f"the token is refused: {error}") from None
            starts = [float(claims[name]) for name in ("nbf", "iat") if name in claims]
            valid_from = max(starts, default=float("-inf")) - CLOCK_SKEW_S
            return _identity(claims), valid_from, float(claims["exp"]) + CLOCK_SKEW_S
        raise UnauthenticatedError("the token's signature does not verify")

    def _algorithms(self) -> str:
        return ", ".join(sorted(self.keys))


def _identity(claims: dict[str, Any]) -> Identity:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _SUBJECT.match(subject):
        raise UnauthenticatedError(
            "the token's subject is not a plain name (letters, digits, ._@+-)"
        )
    granted = claims.get(ROLES_CLAIM, [])
    if not isinstance(granted, list):
        raise UnauthenticatedError(f"the token's {ROLES_CLAIM} claim must be a list")
    # Roles this worker does not know are left out, not refused: a token may serve more.
    roles = frozenset(cast(Role, role) for role in granted if role in ROLES)
    return Identity(subject=subject, roles=roles, via="jwt")
