"""The conformance cases (``tests/conformance/``) through the core's Python door.

``cel/*.json``: every case's expression over its variables through the ``_evaluate`` hook
(``Expr::evaluate`` and ``Expr::test``), with events as event views and as plain maps;
``cel/compile.json`` through ``_field_path``. ``events/*.json``: every raw line through
the contract (``parse_event``: the verdict, the reason, the fields at fault) and through
the core's strict reader (``_parse_line``) and ``_from_projection``, and Python's own
``project`` and ``_ip_prefix``. ``native/src/conformance/`` runs the same files in
``cargo test``; ``tests/conformance/README.md`` says what a case holds. A case marked
``pending`` is a known difference of the core: it must still fail here (strict xfail), so
that fixing it is noticed.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import riskstream.core
from riskstream.agents.cep.expressions import _ip_prefix, project
from riskstream.agents.validation import InvalidEventError, parse_event

ROOT = Path(__file__).resolve().parents[2] / "conformance"
VARIABLES = ["event", "entity", "agg", "steps", "profiles", "penalties", "spent_today"]
KINDS = {
    "KeyError": "no_such_key",
    "TypeError": "no_such_overload",
    "ZeroDivisionError": "division_by_zero",
    "OverflowError": "overflow",
    "ValueError": "invalid_argument",
    "RuntimeError": "runtime_error",
}
MAX_BYTES = 1 << 20  # a case's max_bytes unless it says otherwise: the replay's line limit


def cases(directory: str, *, only: str | None = None, but: str | None = None) -> list[Any]:
    """(file, case) for every case of ``directory/*.json``."""
    found = []
    for path in sorted((ROOT / directory).glob("*.json")):
        if (only is None or path.stem == only) and path.stem != but:
            found += [(path.stem, case) for case in json.loads(path.read_text())["cases"]]
    assert found, f"no cases in {ROOT / directory}"
    return found


def load(directory: str, *, only: str | None = None, but: str | None = None) -> list[Any]:
    """The cases as pytest params named ``file/case``."""
    return [
        pytest.param(
            case,
            id=f"{file}/{case['name']}",
            marks=[pytest.mark.xfail(strict=True, reason=case["pending"])]
            if "pending" in case
            else [],
        )
        for file, case in cases(directory, only=only, but=but)
    ]


@pytest.fixture(scope="module")
def core() -> ModuleType:
    """The core's Python module: ``riskstream.core``."""
    return riskstream.core


# --- values --------------------------------------------------------------------------------


def from_json(value: Any) -> Any:
    """A case's value: ``{"$double": "NaN" | "Infinity" | "-Infinity"}`` is that double."""
    if isinstance(value, dict):
        if list(value) == ["$double"]:
            return float(value["$double"])
        return {key: from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value


def typed(value: Any) -> Any:
    """A comparable form: types kept apart (1 is not 1.0 nor True), doubles bit for bit
    (any NaN the same), members in order."""
    if isinstance(value, dict):
        return ("map", [(key, typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    if isinstance(value, float):
        return ("double", "nan" if math.isnan(value) else value.hex())
    return (type(value).__name__, value)


# --- CEL -----------------------------------------------------------------------------------


def cel_typed(value: Any) -> Any:
    """``typed``, with a map's entries in key order: CEL maps have no order."""
    if isinstance(value, dict):
        return ("map", sorted((key, cel_typed(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", [cel_typed(item) for item in value])
    return typed(value)


def expected_outcomes(case: dict[str, Any]) -> tuple[Any, Any]:
    """(evaluate, test) as the case says: test is true only for a value true."""
    if "value" in case:
        return ("value", cel_typed(from_json(case["value"]))), case["value"] is True
    return ("error", case["error"]), False


def got_outcomes(outcomes: tuple[Any, Any]) -> tuple[Any, Any]:
    (kind, payload), (test_kind, test) = outcomes
    if kind == "value":
        evaluated: tuple[str, Any] = ("value", cel_typed(payload))
    else:  # an error, or the core giving up ("fallback"), which no case expects
        evaluated = (kind, KINDS.get(payload, payload))
    return evaluated, (test if test_kind == "value" else (test_kind, test))


@pytest.mark.parametrize("case", load("cel", but="compile"))
def test_cel(core: ModuleType, case: dict[str, Any]) -> None:
    variables = {name: from_json(case[name]) for name in VARIABLES if name in case}
    want = expected_outcomes(case)
    for views in (True, False):
        got = got_outcomes(core._evaluate(case["expr"], variables, views))
        assert got == want, f"{case['expr']!r} (event views: {views})"


@pytest.mark.parametrize("case", load("cel", only="compile"))
def test_cel_compile(core: ModuleType, case: dict[str, Any]) -> None:
    try:
        field_path = core._field_path(case["expr"])
    except ValueError:
        assert case.get("refused") is True, "refused"
        return
    assert case.get("refused") is not True, "accepted"
    assert field_path == case["field_path"]


# --- events --------------------------------------------------------------------------------


def line_of(case: dict[str, Any]) -> bytes:
    if "line_base64" in case:
        return base64.b64decode(case["line_base64"])
    return str(case["line"]).encode()


def contract_verdict(case: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The case's verdict as ``parse_event`` gives it, and the event when valid."""
    limits = {"max_bytes": case.get("max_bytes", MAX_BYTES), "now_ms": case.get("now_ms")}
    try:
        event = parse_event(line_of(case), **limits)
    except InvalidEventError as error:
        verdict: dict[str, Any] = {"verdict": "invalid", "reason": error.rejection.reason}
        if error.rejection.reason == "invalid":
            fields = [part.split(": ", 1)[0].split(".", 1)[0] for part in
                      error.rejection.detail.split("; ")]  # fmt: skip
            verdict["fields"] = list(dict.fromkeys(fields))
        return verdict, None
    return {"verdict": "valid", "ms": event.occurred_ms}, event


EVENT_CASES = load("events", but="ip_prefix")
PREFIXES = {case["ip"]: case["prefix"] for _, case in cases("events", only="ip_prefix")}


@pytest.mark.parametrize("case", EVENT_CASES)
def test_event_contract(case: dict[str, Any]) -> None:
    verdict, _ = contract_verdict(case)
    keys = ["verdict", "reason", "fields", "ms"]
    assert verdict == {key: case[key] for key in keys if key in case}


def same_projection(got: dict[str, Any], case: dict[str, Any]) -> None:
    assert typed(got) == typed(from_json(case["projection"]))


def check_native_event(event: tuple[int, str, float | None], case: dict[str, Any]) -> None:
    ms, projection, amount = event
    assert ms == case["ms"]
    same_projection(json.loads(projection), case)
    expected = case["projection"].get("amount")
    assert typed(amount) == typed(None if expected is None else float(expected))


@pytest.mark.parametrize("case", EVENT_CASES)
def test_event_native(core: ModuleType, case: dict[str, Any]) -> None:
    if "strict" in case:
        projection: dict[str, Any] = case.get("projection", {})

        def ip_prefix(ip: str) -> str | None:
            """``_ip_prefix`` as the case has it (the core asks for every ``ip``)."""
            known = projection.get("ip_prefix") if projection.get("ip") == ip else PREFIXES.get(ip)
            return None if known is None else str(known)

        read = core._parse_line(line_of(case), ip_prefix)
        assert ("unsure" if read is None else "read") == case["strict"]
        if read is not None:
            assert case["verdict"] == "valid"
            check_native_event(read, case)
    if case["verdict"] == "valid":
        text = json.dumps({"ms": case["ms"], "fields": from_json(case["projection"])})
        if case.get("from_projection") == "refused":
            with pytest.raises(ValueError):
                core._from_projection(text.encode())
        else:
            check_native_event(core._from_projection(text.encode()), case)


# Python's own projection (``project``), which the rule center's checks, the scorer and
# the lines the strict reader is unsure of go through.


@pytest.mark.parametrize("case", EVENT_CASES)
def test_event_projection_of_python(case: dict[str, Any]) -> None:
    _, event = contract_verdict(case)
    if event is not None:
        same_projection(project(event), case)


@pytest.mark.parametrize("case", load("events", only="ip_prefix"))
def test_ip_prefix_of_python(case: dict[str, Any]) -> None:
    assert _ip_prefix(case["ip"]) == case["prefix"]
