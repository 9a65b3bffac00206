"""``riskstream penalties add`` names a card by the token the workers know it by."""

from __future__ import annotations

import pytest

from riskstream.cli.penalties import PenaltyCommandError, _known_id
from riskstream.streams.redaction import Kind, Tokeniser
from riskstream.streams.settings import Settings

SECRET = "cli-unit-tests-token-secret"


def test_a_card_number_is_penalised_by_its_token() -> None:
    settings = Settings(token_secret=SECRET)
    expected = Tokeniser(SECRET.encode()).token(Kind.CARD, "4111111111111111")
    assert _known_id(settings, "4111 1111 1111 1111") == expected


def test_other_ids_are_kept() -> None:
    assert _known_id(Settings(token_secret=None), "acct-00084") == "acct-00084"


def test_a_card_number_without_the_secret_is_refused() -> None:
    with pytest.raises(PenaltyCommandError, match="RISKSTREAM_TOKEN_SECRET is not set"):
        _known_id(Settings(token_secret=None, development=False), "4111111111111111")
