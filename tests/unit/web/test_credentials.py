"""Bearer credentials: which tokens and API keys make an identity, and why others do not."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

import jwt
import pytest

from riskstream.streams.access import ApiKey
from riskstream.streams.settings import Settings
from riskstream.web.credentials import (
    NO_CREDENTIALS_CONFIGURED,
    Credentials,
    UnauthenticatedError,
    load_public_keys,
)
from tests.unit.web.keys import OTHER_SECRET, SECRET, ec_key, rsa_key, token, write_public_keys


def credentials(**settings: object) -> Credentials:
    return Credentials.from_settings(Settings(**settings))  # type: ignore[arg-type]


def refusal(creds: Credentials, header: str | None) -> UnauthenticatedError:
    with pytest.raises(UnauthenticatedError) as caught:
        creds.authenticate(header)
    return caught.value


def test_a_signed_token_names_its_subject_and_known_roles() -> None:
    creds = credentials(auth_jwt_secret=SECRET)
    identity = creds.authenticate(f"Bearer {token(['operator', 'wizard'], subject='bob')}")
    assert (identity.subject, identity.roles, identity.via) == ("bob", {"operator"}, "jwt")
    assert identity.holds("analyst") and not identity.holds("admin")


def test_nothing_configured_refuses_everything_and_says_so() -> None:
    error = refusal(credentials(), f"Bearer {token(['admin'])}")
    assert str(error) == NO_CREDENTIALS_CONFIGURED
    assert error.error is None


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (None, "bearer token is needed"),
        ("", "bearer token is needed"),
        (lambda: f"Basic {token(['admin'])}", "must be Bearer"),
        ("Bearer ", "must be Bearer"),
        ("Bearer " + "a" * 9000, "too long"),
        ("Bearer not-a-known-key", "neither a known API key nor a signed token"),
        ("Bearer a.b.c", "malformed"),
        (lambda: f"Bearer {token(['admin'], secret=OTHER_SECRET)}", "signature does not verify"),
        (lambda: f"Bearer {token(['admin'], expires_in=-120)}", "expired"),
        (lambda: f"Bearer {token(['admin'], exp=None)}", 'missing the "exp" claim'),
        (lambda: f"Bearer {token(['admin'], aud='another-service')}", "Audience doesn't match"),
        (lambda: f"Bearer {token(['admin'], subject='ops:root')}", "subject"),
        (lambda: f"Bearer {token(['admin'], nbf=int(time.time()) + 600)}", "not yet valid"),
    ],
)
def test_bad_credentials_are_refused_with_a_reason(
    header: str | Callable[[], str] | None, says: str
) -> None:
    # Tokens are signed when the test runs, not when it is collected: a long session
    # would see them expire first.
    error = refusal(credentials(auth_jwt_secret=SECRET), header() if callable(header) else header)
    assert says in str(error)
    assert "a" * 100 not in str(error)  # the credential is never repeated


def test_an_unsigned_token_is_refused() -> None:
    unsigned = jwt.encode(
        {"sub": "mallory", "roles": ["admin"], "aud": "riskstream", "exp": time.time() + 60},
        key=None,
        algorithm="none",
    )
    assert "algorithm is not accepted" in str(refusal(credentials(auth_jwt_secret=SECRET),
                                                      f"Bearer {unsigned}"))  # fmt: skip


def test_roles_must_be_a_list() -> None:
    bad = jwt.encode(
        {"sub": "x", "roles": "admin", "aud": "riskstream", "exp": time.time() + 60}, SECRET
    )
    assert "must be a list" in str(refusal(credentials(auth_jwt_secret=SECRET), f"Bearer {bad}"))


def test_the_issuer_is_required_when_configured() -> None:
    creds = credentials(auth_jwt_secret=SECRET, auth_jwt_issuer="https://idp.example")
    assert "iss" in str(refusal(creds, f"Bearer {token(['admin'])}"))
    good = token(["admin"], iss="https://idp.example")
    assert creds.authenticate(f"Bearer {good}").subject == "alice"


def test_public_keys_verify_rs256_and_es256_tokens(tmp_path: Path) -> None:
    signer_rsa, signer_ec, stranger = rsa_key(), ec_key(), rsa_key()
    keys = write_public_keys(tmp_path / "keys.pem", signer_rsa, signer_ec)
    creds = credentials(auth_jwt_public_keys_file=keys)
    claims = {"sub": "svc", "roles": ["scorer"], "aud": "riskstream", "exp": time.time() + 60}
    for key, algorithm in ((signer_rsa, "RS256"), (signer_ec, "ES256")):
        signed = jwt.encode(claims, key, algorithm=algorithm)
        assert creds.authenticate(f"Bearer {signed}").roles == {"scorer"}
    forged = jwt.encode(claims, stranger, algorithm="RS256")
    assert "does not verify" in str(refusal(creds, f"Bearer {forged}"))
    # The shared-secret algorithm is not accepted when only public keys are configured.
    assert "not accepted" in str(refusal(creds, f"Bearer {token(['scorer'])}"))


def test_weak_or_missing_public_keys_are_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither RSA of 2048 bits"):
        load_public_keys(write_public_keys(tmp_path / "weak.pem", rsa_key(1024)))
    (tmp_path / "empty.pem").write_text("nothing here")
    with pytest.raises(ValueError, match="no PEM public key"):
        load_public_keys(tmp_path / "empty.pem")


def test_an_api_key_is_known_by_its_digest_only() -> None:
    key = "rk_live_0123456789abcdef0123456789abcdef"
    entry = ApiKey(
        subject="pay-gateway", sha256=hashlib.sha256(key.encode()).hexdigest(), roles=("scorer",)
    )
    creds = credentials(auth_api_keys=(entry,))
    identity = creds.authenticate(f"Bearer {key}")
    assert (identity.subject, identity.roles, identity.via) == (
        "pay-gateway", {"scorer"}, "api-key",
    )  # fmt: skip
    assert "neither" in str(refusal(creds, f"Bearer {key}x"))
    # Without a token key, a JWT-shaped credential is no API key either.
    assert "neither" in str(refusal(creds, f"Bearer {token(['admin'])}"))


def test_short_secrets_and_half_a_certificate_are_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(auth_jwt_secret="short")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="go together"):
        Settings(web_ssl_cert_file=Path("cert.pem"))


def test_api_keys_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    digest = "ab" * 32
    monkeypatch.setenv(
        "RISKSTREAM_AUTH_API_KEYS",
        f'[{{"subject": "batch", "sha256": "{digest}", "roles": ["analyst"]}}]',
    )
    assert Settings().auth_api_keys == (ApiKey(subject="batch", sha256=digest, roles=("analyst",)),)


def test_a_remembered_token_is_still_refused_once_it_has_expired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creds = credentials(auth_jwt_secret=SECRET)
    header = f"Bearer {token(['scorer'], expires_in=60)}"
    assert creds.authenticate(header).subject == "alice"
    assert creds.authenticate(header).subject == "alice"  # remembered, not verified again
    assert len(creds._verified) == 1
    assert not any(header.split()[1] in str(key) for key in creds._verified)  # by digest

    later = 60 + 31  # seconds: past exp and the allowed skew, for both clocks

    class Later:
        @staticmethod
        def time() -> float:
            return time.time() + later

    class LaterDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> LaterDatetime:
            return cls.fromtimestamp(time.time() + later, tz)

    monkeypatch.setattr("riskstream.web.credentials.time", Later)
    monkeypatch.setattr("jwt.api_jwt.datetime", LaterDatetime)
    assert "expired" in str(refusal(creds, header))


def test_a_token_not_yet_valid_is_not_remembered_as_valid() -> None:
    creds = credentials(auth_jwt_secret=SECRET)
    early = f"Bearer {token(['scorer'], nbf=int(time.time()) + 600)}"
    assert "not yet valid" in str(refusal(creds, early))
    assert "not yet valid" in str(refusal(creds, early))
    assert creds._verified == {}
