"""The native CEL fast path against the ``cel`` package, its reference.

Every expression of the shipped pack and a list of tricky ones are evaluated by both
over many generated contexts (edge values, wrong types, missing fields and variables);
the fast path must give the same value, or an error of the same type, whenever it does
not hand the evaluation back to the ``cel`` package.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import replace
from typing import Any

import pytest

from riskstream.agents.cep.expressions import (
    FUNCTIONS,
    Expression,
    ExpressionError,
    compile_expression,
)
from riskstream.agents.cep.fastcel import INT_MAX, INT_MIN, Fallback, compile_fast
from riskstream.rules.loader import default_pack, default_score_rules

TRICKY = [
    # logic with errors and non-booleans on either side
    "event.a && event.b",
    "event.a || event.b",
    "!event.a",
    "!(!event.a)",
    "-(-event.a)",
    "!(event.a)",
    "event.a && event.b && event.c",
    "event.a || event.b || event.c",
    "event.a && (event.b || event.c)",
    "(event.a || event.b) && !event.c",
    "event.a && (event.b && event.c)",
    "event.a || (event.b || event.c)",
    "event.a ? event.b : event.c",
    "event.a ? event.b : event.c ? event.d : null",
    "(event.a ? event.b : event.c) == 1",
    "event.a > 1 && false",
    "event.a > 1 || true",
    "false && event.a / event.b > 1",
    "event.a / event.b > 1 || event.c",
    "event.c || event.a / event.b > 1",
    "true && 1 == 1",
    "1 == 1 && event.a",
    # comparisons across types
    "event.a == event.b",
    "event.a != event.b",
    "event.a < event.b",
    "event.a <= event.b",
    "event.a > event.b",
    "event.a >= event.b",
    "event.a == null",
    "event == null",
    "agg != null && agg.n > 1",
    "event.a != null && event.a >= 5",
    "event.a < 1",
    "event.a > 1.5",
    "event.a == 1",
    "event.a == 1.0",
    "event.a == 'x'",
    "event.a == true",
    "event.a < 'b'",
    "event.a >= false",
    # membership
    'event.a in ["x", "y", "withdrawal"]',
    "event.a in [1, 2.5, 'x', null, true]",
    "event.a in [1]",
    "event.a in [null]",
    "!(event.a in ['x'])",
    # arithmetic
    "event.a + event.b",
    "event.a - event.b",
    "event.a * event.b",
    "event.a / event.b",
    "event.a + event.b > 10.0",
    "-event.a",
    "-event.a < 0",
    "event.a * 2.0 > event.b",
    "0.8 * event.a <= event.b",
    "event.a + 1",
    "event.a - 1 == event.b",
    "event.a * 3 / 2",
    "event.a + '|' + event.b",
    "1e3 < event.a",
    "2.5E-1 == event.a",
    "event.a / 0",
    "event.a / 0.0",
    # presence and nested access
    "has(event.a)",
    "!has(event.a) || event.a != 'pos'",
    "has(event.m.k)",
    "event.m.k == 'x'",
    "event.m.k > 1",
    "has(steps.first.a)",
    "steps.first.a == event.a",
    "event.a >= 0.8 * steps.first.b",
    "steps.first.a != null && steps.first.a == event.b",
    # several variables
    "agg.n > 10 || agg.total > 5000.0",
    "agg.n >= 3 && entity.age_seconds >= 7776000.0",
    "agg.x_days == 0 && (agg.a > 1000.0 || agg.b > 3000.0)",
    "entity.idle_seconds > 60.0 ? agg.n > 1 : agg.n > 5",
    # functions
    "distance_km(event.a, event.b, event.c, event.d) > 500.0",
    "distance_km(steps.first.a, steps.first.b, event.c, event.d) > 900.0 * event.a / 3600.0",
    # size of strings (code points), lists and maps; CEL's own errors for the rest
    "size(event.a) > 1",
    "size(event.a)",
    "size(event.a) == size(event.b)",
    "size(event.a.b) >= 2",
    # the key expression forms of the README
    "event.a + '|' + event.b",
    "event.type == 'withdrawal' ? event.a : event.b",
]

# Sources the fast path must leave to the ``cel`` package.
REFUSED = [
    "event.a % 2 == 0",
    'event.a == "x\\n"',
    "event.a == r'x'",
    "event.a == b'x'",
    "event.a == 1u",
    "event.a == 0x10",
    'event.a == """x"""',
    "event['a'] == 1",
    "event.a.startsWith('x')",
    "event.a in event.b",
    "event.a in []",
    "[1, 2] == event.a",
    "{'a': 1} == event.a",
    "1 < 2 < 3",
    "double(event.a) > 1.0",
    "event.a > 1 // a comment",
    "event.a == 007",
    "event.a.exists(x, x > 1)",
    "!!event.a",
    "--event.a",
]


def pack_expressions() -> list[str]:
    sources: list[str] = []
    for doc in default_pack():
        sources += [doc.key, *([doc.when] if doc.when else [])]
        sources += [doc.condition] if doc.condition else []
        sources += [spec.where for spec in doc.aggregates.values() if spec.where]
        if doc.sequence is not None:
            absent = [doc.sequence.absent] if doc.sequence.absent else []
            for step in (*doc.sequence.steps, *absent):
                sources += [step.when, *([step.match] if step.match else [])]
    sources += [doc.when for doc in default_score_rules()]
    return sorted(set(sources))


MISSING = object()
EDGE_INTS = [0, 1, -1, 2, 3, 5, 10, 1000, -7, 2**53, 2**53 + 1, INT_MAX, INT_MIN, 2**62,
             2**63, 2**64, -(2**63) - 1]  # fmt: skip
EDGE_FLOATS = [0.0, -0.0, 0.5, 1.0, 1.5, -2.5, 9000.0, 9999.99, 10000.0, 1e308, -1e308,
               float(2**53), 9.223372036854776e18, math.nan, math.inf, -math.inf,
               31.2, 121.5, -45.0, 179.9]  # fmt: skip
EDGE_STRINGS = ["", "a", "x", "y", "b", "pos", "failed", "withdrawal", "top_up", "é", "\U0001f600"]


def literals(source: str) -> list[Any]:
    """Values close to the literals of the source, so comparisons go both ways."""
    found: list[Any] = re.findall(r'"([^"\\]*)"|\'([^\'\\]*)\'', source)
    values: list[Any] = [text for pair in found for text in pair if text]
    for number in re.findall(r"(?<![A-Za-z_.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", source):
        value = float(number)
        values += [value, value + 0.01, value - 0.01]
        if value.is_integer() and abs(value) < 2**62:
            values += [int(value), int(value) + 1, int(value) - 1]
    return values


def random_value(rng: random.Random, near: list[Any], depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.3 and near:
        return rng.choice(near)
    if roll < 0.4:
        return None
    if roll < 0.5:
        return rng.choice([True, False])
    if roll < 0.62:
        return rng.choice(EDGE_INTS)
    if roll < 0.8:
        return rng.choice([*EDGE_FLOATS, rng.uniform(-1e4, 1e4)])
    if roll < 0.93:
        return rng.choice(EDGE_STRINGS)
    if depth > 1:
        return rng.choice([[], [1], {}])
    return rng.choice(
        [[1, "x"], [], {"k": random_value(rng, near, depth + 1)}, {}, (1, 2), {"k": 1, 5: 2}]
    )


NESTED = {"m", "first", "topup", "here"}


def random_map(
    rng: random.Random, near: list[Any], names: list[str], depth: int = 0
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in names:
        if rng.random() < 0.8:
            if name in NESTED and depth == 0 and rng.random() < 0.8:
                result[name] = random_map(rng, near, names, depth + 1)
            else:
                result[name] = random_value(rng, near, depth)
    return result


def random_context(rng: random.Random, near: list[Any], names: list[str]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for name in ["event", "agg", "entity", "steps"]:
        roll = rng.random()
        if roll < 0.03:
            continue  # absent altogether
        if roll < 0.06:
            context[name] = rng.choice([None, "text", 1, []])
        else:
            context[name] = random_map(rng, near, names)
    return context


def normal(value: Any) -> Any:
    """A comparable form: floats by repr (NaN, -0.0), maps whatever their order."""
    if isinstance(value, dict):
        return ("map", {key: normal(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return ("list", [normal(item) for item in value])
    return (type(value), repr(value))


def outcome(call: Any) -> tuple[str, Any]:
    try:
        value = call()
    except Fallback:
        raise
    except Exception as error:
        return ("error", type(error))
    return ("value", normal(value))


def differential(source: str, rounds: int, seed: int) -> tuple[int, int]:
    """(decided by the fast path, handed back) over ``rounds`` generated contexts."""
    expression = compile_expression(source, "test")
    assert expression.fast is not None, f"fast path refused {source!r}"
    rng = random.Random(f"{seed}:{source}")
    near = literals(source)
    # Every name of the source as a field (so most are there), and one never read.
    names = sorted(set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source)) | {"unread"})
    decided = handed_back = 0
    for _ in range(rounds):
        context = random_context(rng, near, names)
        reference = outcome(lambda: expression.evaluate_cel(context))  # noqa: B023
        try:
            fast = outcome(lambda: expression.fast(context))  # type: ignore[misc] # noqa: B023
        except Fallback:
            handed_back += 1  # then ``evaluate`` asks the cel package itself
            continue
        decided += 1
        assert fast == reference, f"{source!r} over {context!r}"
        # So does the public path (a bare ``event.<field>`` has its own shortcut there,
        # which reads a missing field as null).
        if expression.field_path is None:
            assert outcome(lambda: expression.evaluate(context)) == reference  # noqa: B023
    return decided, handed_back


@pytest.mark.parametrize("source", pack_expressions())
def test_pack_expressions_match_cel(source: str) -> None:
    decided, _ = differential(source, rounds=1500, seed=1)
    # The generated contexts are full of values the fast path hands back (lists, maps,
    # huge ints); it must still decide a good share of them itself.
    assert decided > 400


@pytest.mark.parametrize("source", TRICKY)
def test_tricky_expressions_match_cel(source: str) -> None:
    decided, _ = differential(source, rounds=1500, seed=2)
    assert decided > 0


@pytest.mark.parametrize("source", REFUSED)
def test_outside_the_subset_stays_with_cel(source: str) -> None:
    expression = compile_expression(source, "test")
    assert expression.fast is None


def test_every_pack_expression_takes_the_fast_path() -> None:
    refused = [s for s in pack_expressions() if compile_expression(s, "t").fast is None]
    assert refused == []


def test_values_outside_the_model_are_handed_back() -> None:
    expression = compile_expression("event.a == event.b", "test")
    assert expression.fast is not None
    for context in [
        {"event": {"a": [1], "b": [1.0]}},  # lists: CEL's own equality
        {"event": {"a": 2**63, "b": 1}},  # beyond int64
        {"event": {"a": 1, "b": 1, "z": object()}},  # unread: ignored by both
    ]:
        try:
            fast = expression.fast(context)
        except Fallback:
            fast = Fallback
        assert fast is Fallback or fast == expression.evaluate_cel(context)
        assert expression.evaluate(context) == expression.evaluate_cel(context)
    # An object CEL cannot convert, in a field the expression reads but does not reach:
    unreachable = compile_expression("false && event.a == 1", "test")
    assert unreachable.fast is not None
    with pytest.raises(Fallback):
        unreachable.fast({"event": {"a": object()}})
    with pytest.raises(ValueError, match="Conversion"):
        unreachable.evaluate({"event": {"a": object()}})


def test_errors_have_the_types_cel_gives() -> None:
    def error_of(source: str, context: dict[str, Any]) -> type[BaseException] | None:
        expression = compile_expression(source, "test")
        try:
            expression.evaluate(context)
        except Exception as error:
            return type(error)
        return None

    assert error_of("event.a > 1", {"event": {}}) is KeyError
    assert error_of("event.a > 1", {"event": {"a": "x"}}) is TypeError
    assert error_of("event.a / event.b", {"event": {"a": 1, "b": 0}}) is ZeroDivisionError
    assert error_of("event.a * event.b", {"event": {"a": INT_MAX, "b": 2}}) is OverflowError
    assert error_of("event.a > 1 && false", {"event": {}}) is None


def test_compile_fast_checks_the_variables_cel_sees() -> None:
    # A name the parser takes for a variable must be one CEL reports too.
    assert compile_fast("event.a > 1", {"agg": frozenset({"a"})}, {}) is None
    assert compile_fast("event.a > 1", {"event": frozenset({"a"})}, {}) is not None
    assert compile_fast("f(event.a)", {"event": frozenset({"a"})}, {}) is None
    assert compile_fast("distance_km(1, 2, 3, 4) > 1.0", {}, FUNCTIONS) is not None


def test_expression_equality_ignores_the_fast_path() -> None:
    first: Expression = compile_expression("event.a > 1", "a")
    other = replace(first, fast=lambda variables: None, fast_plain=None)
    assert other == first


def test_a_source_is_compiled_once_and_a_refused_one_is_named_where_it_is() -> None:
    assert compile_expression("event.a > 2", "when") is compile_expression("event.a > 2", "x")
    for where in ("rule r1: when", "rule r2: condition"):
        with pytest.raises(ExpressionError, match=f"^{re.escape(where)}: "):
            compile_expression("event.a >", where)
