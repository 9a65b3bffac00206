"""Who acts on a rule change from the command line: the admin a verified token names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from riskstream.cli.rule_changes import operator
from riskstream.cli.rules import RulesCommandError
from riskstream.streams.settings import Settings
from riskstream.web.tokens import mint

SECRET = "rule-changes-unit-tests-jwt-secret-0123456789"


def settings_with(token: str | None) -> Settings:
    return Settings(auth_jwt_secret=SECRET, operator_token=token)


def test_the_operator_is_the_subject_of_an_admin_token() -> None:
    token = mint(SECRET, "alice", ["admin"], timedelta(minutes=5))
    assert operator(settings_with(token)) == "alice"


def test_without_a_token_a_change_is_refused() -> None:
    with pytest.raises(RulesCommandError, match="RISKSTREAM_OPERATOR_TOKEN"):
        operator(settings_with(None))


def test_a_token_of_another_role_is_refused() -> None:
    token = mint(SECRET, "olga", ["operator"], timedelta(minutes=5))
    with pytest.raises(RulesCommandError, match="olga is no admin"):
        operator(settings_with(token))


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = mint("another-secret-of-enough-length-0123456789", "mallory", ["admin"],
                 timedelta(minutes=5))  # fmt: skip
    with pytest.raises(RulesCommandError, match="signature does not verify"):
        operator(settings_with(token))
