"""Rule expressions checked when a rule document is loaded (the core evaluates them; its
conformance cases pin what they evaluate to)."""

from __future__ import annotations

import re

import pytest

from riskstream.agents.cep.expressions import ExpressionError, compile_expression


def test_a_field_path_is_known() -> None:
    assert compile_expression(" event.device_id ", "key").field_path == "device_id"
    assert compile_expression("event.device_id + 'x'", "key").field_path is None


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
