"""The bounds of rule documents and penalty entries (``tests/conformance/rules/``).

Each case changes a base document (a null removes a field) and is either accepted or
refused with a message that names the field at fault: by the rule loader's
:class:`RuleError`, or by pydantic's ``ValidationError`` for a penalty entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from riskstream.agents.cep.compiler import RuleError
from riskstream.rules.loader import parse_any
from riskstream.streams.scoring_model import Penalty

ROOT = Path(__file__).resolve().parents[2] / "conformance" / "rules"


def load(stem: str) -> list[Any]:
    document = json.loads((ROOT / f"{stem}.json").read_text())
    params = []
    for case in document["cases"]:
        changed = {**document["base"], **case["change"]}
        changed = {key: value for key, value in changed.items() if value is not None}
        params.append(pytest.param(changed, case, id=case["name"]))
    assert params
    return params


@pytest.mark.parametrize(("document", "case"), load("rule_limits"))
def test_a_rule_document_is_accepted_or_refused_naming_the_field(
    document: dict[str, Any], case: dict[str, Any]
) -> None:
    if case.get("accepted"):
        parse_any(document, case["name"])
        return
    with pytest.raises(RuleError) as refused:
        parse_any(document, case["name"])
    assert case["refused"] in str(refused.value)


@pytest.mark.parametrize(("document", "case"), load("penalty_limits"))
def test_a_penalty_entry_is_accepted_or_refused_naming_the_field(
    document: dict[str, Any], case: dict[str, Any]
) -> None:
    if case.get("accepted"):
        Penalty.model_validate(document)
        return
    with pytest.raises(ValidationError) as refused:
        Penalty.model_validate(document)
    assert case["refused"] in str(refused.value)
