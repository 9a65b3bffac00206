"""Rule expressions compiled by the ``cel`` package: what the rule documents' checks and
the scoring rules use (the core compiles and evaluates the detection rules itself)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from riskstream.agents.cep.expressions import ExpressionError, compile_expression

INT_MAX = 2**63 - 1


def error_of(source: str, context: dict[str, Any]) -> type[BaseException] | None:
    expression = compile_expression(source, "test")
    try:
        expression.evaluate(context)
    except Exception as error:
        return type(error)
    return None


def test_errors_have_the_types_cel_gives() -> None:
    assert error_of("event.a > 1", {"event": {}}) is KeyError
    assert error_of("event.a > 1", {"event": {"a": "x"}}) is TypeError
    assert error_of("event.a / event.b", {"event": {"a": 1, "b": 0}}) is ZeroDivisionError
    assert error_of("event.a * event.b", {"event": {"a": INT_MAX, "b": 2}}) is OverflowError
    assert error_of("event.a > 1 && false", {"event": {}}) is None


def test_test_is_true_only_for_true() -> None:
    assert compile_expression("event.a > 1", "t").test({"event": {"a": 2}}) is True
    assert compile_expression("event.a", "t").test({"event": {"a": 1}}) is False
    assert compile_expression("event.a > 1", "t").test({"event": {}}) is False  # an error


def test_a_field_path_reads_a_missing_field_as_null() -> None:
    expression = compile_expression(" event.device_id ", "key")
    assert expression.field_path == "device_id"
    assert expression.evaluate({"event": {}}) is None


def test_what_an_expression_reads_is_known() -> None:
    assert compile_expression("event.a > agg.n", "t").reads == {
        "event": frozenset({"a"}),
        "agg": frozenset({"n"}),
    }
    assert compile_expression("size(event) > 1", "t").reads == {"event": None}


def test_a_source_is_compiled_once_and_a_refused_one_is_named_where_it_is() -> None:
    assert compile_expression("event.a > 2", "when") is compile_expression("event.a > 2", "x")
    for where in ("rule r1: when", "rule r2: condition"):
        with pytest.raises(ExpressionError, match=f"^{re.escape(where)}: "):
            compile_expression("event.a >", where)
