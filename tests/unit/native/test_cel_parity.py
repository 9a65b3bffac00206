"""The native CEL fast path (``native/src/cel/``) against the Python reference.

For every source, the native compiler must accept exactly what ``compile_expression``'s
fast path accepts (``fast_plain``), with the same ``field_path``; over generated plain
contexts, ``Expr::evaluate`` must give what ``Expression.evaluate`` gives (the fast path's
value, or the same exception class) and ``Expr::test`` what ``Expression.test_plain``
gives. Where the reference leaves the fast path (``Fallback``: the ``cel`` package
decides; or an AttributeError nothing catches), the native side must say "fallback" (the
native run gives up and the reference replays). Sources: every expression of the shipped
pack and scoring rules, the fast path's own tricky and refused lists, edge cases, and
seeded random expressions of the subset. Event views go in as the engine passes them
(fields absent, not null) and as plain maps.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from riskstream.agents.cep.expressions import Expression, compile_expression
from riskstream.agents.cep.fastcel import INT_MAX, INT_MIN, Fallback, is_plain
from riskstream.rules.loader import default_pack, default_score_rules
from tests.unit.agents.cep.test_fastcel import REFUSED, TRICKY, literals

# ``project``'s fields: a dict of only these is an event view for the native side.
EVENT_FIELDS = frozenset(
    ["event_id", "type", "account_id", "ts", "hour", "kind", "counterparty_id", "amount",
     "currency", "channel", "device_id", "ip", "ip_prefix", "instrument_id", "status",
     "country", "lat", "lon", "attributes", "target_event_id", "label", "source"]
)  # fmt: skip
VARIABLES = ["event", "entity", "agg", "steps", "profiles", "penalties", "spent_today"]
STEP_NAMES = ["first", "here", "topup"]
NESTED = {"m", "attributes", "counterparty", "merchant", "account", "x", *STEP_NAMES}

# Sources at the edges of the subset and of the values (the fast path's and CEL's).
EDGES = [
    "foo", "foo == null", "foo.x == 1", "has(foo.x)", "size(foo)", "size('abc')", "size('é')",
    "-1 / 2", "7 / -2", "-7 / 2", "distance_km(1, 2, 3)", "distance_km(1, 2, 3, 4)",
    "distance_km(1, 2, 3, 4.0)", "distance_km(1e308*10.0, 2, 3, 4.0)",
    "distance_km(1, 2, 3, 4,)", "distance_km(event.a, event.b, event.c)",
    "distance_km(event.a, event.b, event.c, event.d, event.e)",
    "'a' + 'b'", "event.a in [1,]", "true ? 1 : 2", "steps.a.b", "int(1)", "distance_km", "has",
    "size", "event . a", "event.a  ", "  event.a", "event.a\n", "1 == 1.0", "1 < 1.5",
    "true < false", "null < null", "null == null", "9223372036854775807 + 1",
    "-9223372036854775807 - 1", "-9223372036854775807 - 2", "9223372036854775808",
    "-(-9223372036854775807 - 1)", "(-9223372036854775807 - 1) / -1", "4611686018427387904 * 2",
    "1.5e308 * 10.0", "1e400", "0.0 / 0.0", "-1.0 / 0.0", "1.0 / -0.0", "-0.0", "- 0.0",
    "'ab' < 'b'", "'é' > 'z'", "event.a == 9007199254740993", "event.a < 9007199254740993",
    "event.a.b.c", "has(event.a.b.c)", "has(event.a.b)", "size(event)", "size(steps)", "event",
    "steps", "!true", "!null", "-true", "-'x'", "-null", "null ? 1 : 2", "1 ? 2 : 3",
    "event.a in ['x', 'y']", "event.a in [1, 'x']", "size(event.a) + 1",
    "event.a + event.b + event.c", "event.a - event.b * event.c / event.d", "(event.a)",
    "((event.a))", "event.a.x", "distance_km(1,2,3,4).x", "has(event.a).x",
    "event.a ? 1 : event.b ? 2 : 3", "event.a || event.b && event.c",
    "event.a == 1 || event.b == 2 && event.c == 3", "\tevent.a\u00a0", "event.a\u2028== 1",
    "event.a\x1c== 1", "event.a == 01", "event.a == 1.", "event.a == .5", "event.a == 1.5e",
    "event.a == 1e5", "event.a == 1E+5", "event.a == 1e-5x", "event.a == 0.5", "event.a == 00.5",
    "event.a == 0e1", "event.a == 1_000", "event.a == 'x''y'", "event.a == \"a'b\"",
    "event.a == 'a\"b'", "event.a = 1", "event.a & 1", "event.a | 1", "event.a % 2",
    "event.a[0]", "event.a()", "event.a.b()", "has(event)", "has(event.)", "has(1.x)",
    "has(event.a, 1)", "size()", "size(1, 2)", "event.a in [event.b]", "event.a in [-1]",
    "event.a in []", "event.a in [1, 2", "(event.a", "event.a)", "event.a ?", "event.a ? 1",
    "event.a ? 1 : ", "!", "-", "", "  ", "!-event.a", "-!event.a", "!(-event.a)",
    "1 + -event.a", "1 - -1", "event.a && ", "&& event.a", "event.a == 1 == true",
    "event.a in [1] in [true]", "(event.a == 1) == true", "event.a < 1 > 0", "event.type",
    "event.ts", "event.lat", "event.attributes", "event.attributes.k", "has(event.attributes.k)",
    "has(steps.first.amount)", "steps.first.amount", "steps.first.attributes.k", "entity.x",
    "agg.x", "profiles.x.y", "penalties", "spent_today", "spent_today > 100.0",
    "size(penalties) > 0", "spent_today + event.amount > 1000.0", "event.unknown_field",
    "has(event.unknown_field)", "event.amount >= 0.8 * steps.first.amount", "as == 1",
    "event.as == 1", "has(event.if)", "event.amount", "event.ip_prefix", "event.source",
]  # fmt: skip
# TRICKY and REFUSED name fields a, b, c, d, m; over event fields they read event views too.
RENAME = {"a": "amount", "b": "lat", "c": "type", "d": "lon", "m": "attributes"}


def shipped_expressions() -> list[str]:
    """Every ``key``, ``when``, ``condition``, ``where`` and step ``when``/``match`` of the
    shipped pack, and every scoring rule's ``when``."""
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


def schema_variant(source: str) -> str:
    return re.sub(
        r"\b(event|first)\.([abcdm])\b", lambda m: f"{m.group(1)}.{RENAME[m.group(2)]}", source
    )


def listed_expressions() -> list[str]:
    sources: list[str] = []
    for source in [*TRICKY, *REFUSED, *EDGES]:
        for variant in (source, schema_variant(source)):
            if variant not in sources:
                sources.append(variant)
    return sources


# --- generated expressions -------------------------------------------------------------------

INT_LITERALS = ["0", "1", "2", "3", "7", "10", "1000", "9007199254740993", "4611686018427387904",
                "9223372036854775807", "9223372036854775808", "01"]  # fmt: skip
FLOAT_LITERALS = ["0.0", "0.5", "1.5", "2.0", "1e3", "2.5E-1", "1e308", "1e-320", "1e400",
                  "3600.0", "0.8", "500.0", "1.", ".5"]  # fmt: skip
STRING_LITERALS = ["'x'", '"y"', "'withdrawal'", '"failed"', "''", "'é'", '"pos"', "'a\"b'"]
SELECTIONS = [
    "event.amount", "event.type", "event.status", "event.lat", "event.lon", "event.ts",
    "event.hour", "event.channel", "event.counterparty_id", "event.attributes",
    "event.attributes.k", "event.ip", "event.x", "event.a", "agg.n", "agg.total", "agg.x",
    "entity.age_seconds", "entity.x", "steps.first.amount", "steps.first.lat",
    "steps.here.ts", "steps.first.attributes.k", "steps.x", "profiles.account.patterns",
    "profiles.counterparty.max_severity", "penalties", "spent_today", "event", "agg", "steps",
    "foo", "foo.x",
]  # fmt: skip


def random_literal(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(INT_LITERALS)
    if roll < 0.65:
        return rng.choice(FLOAT_LITERALS)
    if roll < 0.85:
        return rng.choice(STRING_LITERALS)
    return rng.choice(["true", "false", "null"])


def random_expression(rng: random.Random, depth: int) -> str:
    """A source in (and sometimes just outside) the fast path's subset."""
    if depth <= 0 or rng.random() < 0.2:
        return rng.choice(SELECTIONS) if rng.random() < 0.6 else random_literal(rng)

    def sub() -> str:
        text = random_expression(rng, depth - 1)
        return f"({text})" if rng.random() < 0.4 else text

    roll = rng.random()
    if roll < 0.15:
        return f"{sub()} {rng.choice(['&&', '||'])} {sub()}"
    if roll < 0.35:
        return f"{sub()} {rng.choice(['==', '!=', '<', '<=', '>', '>='])} {sub()}"
    if roll < 0.5:
        return f"{sub()} {rng.choice(['+', '-', '*', '/'])} {sub()}"
    if roll < 0.6:
        return f"{rng.choice(['!', '-'])}{sub()}"
    if roll < 0.68:
        return f"{sub()} ? {sub()} : {sub()}"
    if roll < 0.76:
        items = ", ".join(random_literal(rng) for _ in range(rng.randint(1, 4)))
        return f"{sub()} in [{items}]"
    if roll < 0.84:
        return f"size({sub()})"
    if roll < 0.9:
        return f"has({rng.choice(SELECTIONS)})"
    if roll < 0.96:
        return f"distance_km({', '.join(sub() for _ in range(4))})"
    return f"({sub()})"


def generated_expressions(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    sources: list[str] = []
    while len(sources) < count:
        source = random_expression(rng, rng.randint(1, 4))
        if source not in sources:
            sources.append(source)
    return sources


# --- generated contexts ----------------------------------------------------------------------

EDGE_INTS = [0, 1, -1, 2, 3, 5, 10, 1000, -7, 2**53, 2**53 + 1, 2**62, INT_MAX, INT_MIN,
             INT_MAX - 1, INT_MIN + 1, 3600]  # fmt: skip
EDGE_FLOATS = [0.0, -0.0, 0.5, 1.0, 1.5, -2.5, 9000.0, 9999.99, 10000.0, 1e308, -1e308,
               5e-324, float(2**53), 9.223372036854776e18, -9.223372036854776e18, math.nan,
               math.inf, -math.inf, 31.2, 121.5, -45.0, 179.9, 90.0, 1e16]  # fmt: skip
EDGE_STRINGS = ["", "a", "x", "y", "b", "pos", "failed", "withdrawal", "top_up", "é",
                "\U0001f600", "ab", "1.2.3.4"]  # fmt: skip


def random_value(rng: random.Random, near: list[Any], depth: int = 0) -> Any:
    """A plain value: null, bool, int64, double, string, list, str-keyed map."""
    roll = rng.random()
    if roll < 0.3 and near:
        return rng.choice(near)
    if roll < 0.4:
        return None
    if roll < 0.48:
        return rng.choice([True, False])
    if roll < 0.62:
        return rng.choice(EDGE_INTS)
    if roll < 0.8:
        return rng.choice([*EDGE_FLOATS, rng.uniform(-1e4, 1e4)])
    if roll < 0.93 or depth > 1:
        return rng.choice(EDGE_STRINGS)
    return rng.choice(
        [[], [1, "x"], [1.5, None, True], {}, {"k": random_value(rng, near, depth + 1)}]
    )


def random_map(rng: random.Random, near: list[Any], names: list[str], depth: int = 0) -> Any:
    result: dict[str, Any] = {}
    for name in names:
        if rng.random() < 0.8:
            if name in NESTED and depth == 0 and rng.random() < 0.8:
                result[name] = random_map(rng, near, names, depth + 1)
            else:
                result[name] = random_value(rng, near, depth)
    return result


def random_event(rng: random.Random, near: list[Any], names: list[str]) -> Any:
    """A map of the names; most often of only event fields (an event view natively)."""
    view = random_map(rng, near, [*names, "amount", "type"])
    if rng.random() < 0.65:
        view = {key: value for key, value in view.items() if key in EVENT_FIELDS}
    return view


def random_context(rng: random.Random, near: list[Any], names: list[str]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for name in VARIABLES:
        roll = rng.random()
        if roll < 0.05 or (name in ("profiles", "penalties", "spent_today") and roll < 0.5):
            continue  # absent altogether
        if roll < 0.1:
            context[name] = random_value(rng, near, 2)  # a scalar where a map is read
        elif name == "event":
            context[name] = random_event(rng, near, names)
        elif name == "steps":
            context[name] = {
                step: random_event(rng, near, names)
                for step in [*STEP_NAMES, *names]
                if rng.random() < 0.7
            }
        else:
            context[name] = random_map(rng, near, names)
    return context


# --- the reference's outcomes ----------------------------------------------------------------


def outcome_of(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("value", call())
    except (Fallback, AttributeError):  # the cel package decides / nothing catches it
        return ("fallback", None)
    except Exception as error:
        return ("error", type(error).__name__)


def expected(expression: Expression, context: dict[str, Any]) -> tuple[Any, Any]:
    """What ``evaluate`` and ``test_plain`` give, where the fast path decides."""
    assert expression.fast_plain is not None
    fast = outcome_of(lambda: expression.fast_plain(context))  # type: ignore[misc]
    if fast[0] == "value" and isinstance(fast[1], dict | list):
        fast = ("fallback", None)  # maps and lists come back from CEL in its own shape
    if expression.field_path is not None:  # `evaluate`'s shortcut: event.get(field)
        evaluated = outcome_of(lambda: expression.evaluate(context))
    else:
        evaluated = fast
    if fast[0] == "fallback" and expression.field_path is None:
        tested = ("fallback", None)  # `test_plain` would ask the cel package
    else:
        tested = outcome_of(lambda: expression.test_plain(context))
    return evaluated, tested


def normal(outcome: tuple[str, Any]) -> tuple[str, Any]:
    def value(item: Any) -> Any:
        if isinstance(item, dict):
            return ("map", {key: value(entry) for key, entry in item.items()})
        if isinstance(item, list):
            return ("list", [value(entry) for entry in item])
        return (type(item).__name__, repr(item))  # floats by repr: -0.0, nan

    kind, payload = outcome
    return (kind, value(payload) if kind == "value" else payload)


def compile_both(native: ModuleType, source: str) -> Expression | None:
    """The reference's expression when its fast path takes the source; the native
    compiler must agree on that, and on the field path."""
    try:
        expression = compile_expression(source, "parity")
    except ValueError:
        expression = None  # not CEL: never compiled by the reference
    try:
        field_path = native._field_path(source)
        accepted = True
    except ValueError:
        accepted = False
    if expression is None:
        return None
    reference_accepts = expression.fast_plain is not None
    assert accepted == reference_accepts, (
        f"{source!r}: native {'accepts' if accepted else 'refuses'}, the reference "
        f"{'accepts' if reference_accepts else 'refuses'}"
    )
    if not accepted:
        return None
    assert field_path == expression.field_path, source
    return expression


def differential(native: ModuleType, source: str, rounds: int, seed: int) -> int:
    """Cases compared over ``rounds`` generated contexts (0 when the fast path refuses)."""
    expression = compile_both(native, source)
    if expression is None:
        return 0
    rng = random.Random(f"{seed}:{source}")
    near = literals(source)
    names = sorted(set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source)) | {"unread"})
    for _ in range(rounds):
        context = random_context(rng, near, names)
        assert is_plain(context)
        want = tuple(normal(item) for item in expected(expression, context))
        views = (True, False) if rng.random() < 0.3 else (True,)
        for event_views in views:
            got = tuple(normal(item) for item in native._evaluate(source, context, event_views))
            assert got == want, (
                f"{source!r} over {context!r} (event views: {event_views}):\n"
                f"  native (evaluate, test) {got}\n  python {want}"
            )
    return rounds


@pytest.mark.parametrize("source", shipped_expressions())
def test_shipped_expressions(native: ModuleType, source: str) -> None:
    assert compile_both(native, source) is not None, f"the fast path refuses {source!r}"
    assert differential(native, source, rounds=300, seed=1) == 300


def test_listed_expressions(native: ModuleType) -> None:
    compared = sum(
        differential(native, source, rounds=40, seed=2) for source in listed_expressions()
    )
    assert compared > 5000
    for source in REFUSED:
        with pytest.raises(ValueError, match="refused"):
            native._field_path(source)


def test_generated_expressions(native: ModuleType) -> None:
    sources = generated_expressions(1500, seed=3)
    compared = sum(differential(native, source, rounds=8, seed=4) for source in sources)
    assert compared > 6000


def test_values_that_are_not_plain_are_refused(native: ModuleType) -> None:
    for value in [2**63, -(2**63) - 1, (1, 2), {1: 2}, object(), b"x"]:
        with pytest.raises((TypeError, ValueError)):
            native._evaluate("event.a == 1", {"event": {"a": value}})
    with pytest.raises(ValueError, match="unknown variable"):
        native._evaluate("foo == 1", {"foo": 1})
    with pytest.raises(ValueError, match="refused"):
        native._evaluate("event.a % 2 == 0", {"event": {"a": 1}})


def test_event_views_hold_absent_fields(native: ModuleType) -> None:
    view = {"amount": 12.5, "type": "payment"}
    assert native._evaluate("has(event.lat)", {"event": view}) == (
        ("value", False),
        ("value", False),
    )
    assert native._evaluate("event.lat", {"event": view})[0] == ("value", None)
    assert native._evaluate("event.lat > 1.0", {"event": view})[0] == ("error", "KeyError")
    steps = {"first": {"amount": 10.0}}
    assert native._evaluate(
        "event.amount >= 0.8 * steps.first.amount", {"event": view, "steps": steps}
    ) == (
        ("value", True),
        ("value", True),
    )
