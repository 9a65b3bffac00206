"""``tests/conformance/tokens/``: each message through the core's ``Tokeniser`` under the
file's key and through ``mask``, as live ingest, ``POST /score/``, replay and dead letters
call them (``native/src/conformance/tokens.rs`` runs the same file in ``cargo test``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from riskstream.core import Tokeniser, TooDeep, mask

FILE = Path(__file__).resolve().parents[2] / "conformance" / "tokens" / "tokens.json"
DOCUMENT = json.loads(FILE.read_text())
TOKENISER = Tokeniser(DOCUMENT["key"].encode())


def outcome(call: Any, line: bytes) -> dict[str, Any]:
    """``{"output": value}`` as orjson reads the result, or ``{"refused": why}``."""
    try:
        out = call(line)
    except TooDeep:
        return {"refused": "too_deep"}
    except ValueError:
        return {"refused": "not_json"}
    return {"output": orjson.loads(out)}


def same(got: Any, expected: Any) -> bool:
    """Equal, members in the same order, ints apart from floats."""
    return orjson.dumps(got) == orjson.dumps(expected)


@pytest.mark.parametrize("case", DOCUMENT["cases"], ids=lambda case: case["name"])
def test_token_case(case: dict[str, Any]) -> None:
    line = case["line"].encode()
    assert same(outcome(TOKENISER.tokenise, line), case["tokenised"])

    def masked(message: bytes) -> bytes:
        out, found = mask(message)
        assert sorted(found) == case["masked"].get("found")
        return out

    expected = {name: value for name, value in case["masked"].items() if name != "found"}
    assert same(outcome(masked, line), expected)


def test_an_id_asked_for_is_looked_up_as_ingest_kept_it() -> None:
    """A penalty or a profile asked for by an id with a card number inside finds what
    ingest filed under that id's token; a plain id and a card number as before."""
    case = next(c for c in DOCUMENT["cases"] if c["name"] == "identifiers_sharing_bin_and_last4")
    line = orjson.loads(case["line"])
    kept = case["tokenised"]["output"]
    assert TOKENISER.lookup_id(line["event_id"]) == kept["event_id"]
    assert TOKENISER.lookup_id(line["merchant_id"]) == kept["merchant_id"]
    assert kept["event_id"] != kept["merchant_id"]
    assert TOKENISER.lookup_id("acct-1") == "acct-1"
    card = next(c for c in DOCUMENT["cases"] if c["name"] == "identifier_wholly_a_card")
    assert TOKENISER.lookup_id("4111111111111111") == card["tokenised"]["output"]["event_id"]
