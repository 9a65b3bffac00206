"""Keys and tokens for the web tests: made fresh, never kept in the repository."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

SECRET = "test-secret-of-the-web-tests-0123456789"
OTHER_SECRET = "another-secret-that-nobody-configured-99"
INTERNAL_SECRET = "workers-shared-secret-for-forwarding-42"


def token(
    roles: list[str],
    subject: str = "alice",
    secret: str = SECRET,
    expires_in: float = 300,
    **claims: Any,
) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": subject, "roles": roles, "aud": "riskstream", "iat": now,
        "exp": now + int(expires_in), **claims,
    }  # fmt: skip
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def write_public_keys(path: Path, *keys: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        b"".join(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            for key in keys
        )
    )
    return path
