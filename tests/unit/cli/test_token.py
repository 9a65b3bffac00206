"""``riskstream token create``: a token the worker accepts, or one line saying why not."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from riskstream.cli.token import TokenCommandError, create
from riskstream.streams.settings import Settings
from riskstream.web.credentials import Credentials
from riskstream.web.tokens import mint

SECRET = "0123456789abcdef0123456789abcdef-token"
ROOT = Path(__file__).resolve().parents[3]


def test_a_created_token_is_accepted_with_its_roles_and_lifetime() -> None:
    settings = Settings(auth_jwt_secret=SECRET)  # type: ignore[arg-type]
    made = create(settings, ("operator", "analyst"), "carol", "8h")
    identity = Credentials.from_settings(settings).authenticate(f"Bearer {made}")
    assert (identity.subject, identity.roles) == ("carol", {"operator", "analyst"})
    claims = jwt.decode(made, SECRET, algorithms=["HS256"], audience="riskstream")
    assert claims["exp"] - claims["iat"] == 8 * 3600


@pytest.mark.parametrize(
    ("secret", "roles", "subject", "ttl", "says"),
    [
        (None, ("admin",), "ops", "1h", "no RISKSTREAM_AUTH_JWT_SECRET"),
        (SECRET, (), "ops", "1h", "--role takes"),
        (SECRET, ("root",), "ops", "1h", "not 'root'"),
        (SECRET, ("admin",), "ops:root", "1h", "--subject"),
        (SECRET, ("admin",), "ops", "soon", "not a duration"),
        (SECRET, ("admin",), "ops", "31d", "at most 30 days"),
        (SECRET, ("admin",), "ops", "99999999999d", "too long"),
    ],
)
def test_refusals_say_why(
    secret: str | None, roles: tuple[str, ...], subject: str, ttl: str, says: str
) -> None:
    settings = Settings(auth_jwt_secret=secret)  # type: ignore[arg-type]
    with pytest.raises(TokenCommandError, match=says):
        create(settings, roles, subject, ttl)


def test_mint_refuses_a_lifetime_of_nothing() -> None:
    with pytest.raises(ValueError, match="more than 0 s"):
        mint(SECRET, "ops", ["admin"], timedelta(0))


def test_the_command_prints_the_token_alone_or_one_line(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RISKSTREAM_")},
        "PYTHONPATH": str(ROOT), "KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "RISKSTREAM_DATA_DIR": str(tmp_path), "RISKSTREAM_AUTH_JWT_SECRET": SECRET,
    }  # fmt: skip
    command = [sys.executable, "-m", "riskstream", "token", "create", "--subject", "ops"]
    good = subprocess.Popen([*command, "--role", "admin"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    bad = subprocess.Popen([*command, "--role", "root"], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    out, _ = good.communicate(timeout=120)
    assert good.returncode == 0
    assert jwt.decode(out.strip(), SECRET, algorithms=["HS256"], audience="riskstream")["sub"] == (
        "ops"
    )
    _, err = bad.communicate(timeout=120)
    assert bad.returncode == 1
    assert err.strip().splitlines() == [
        "riskstream token: --role takes admin, analyst, operator, scorer, repeated for several;"
        " not 'root'"
    ]
