"""Generated rule documents, penalty entries and events, thrown at the validators and
the core: each is taken, or refused with the validator's own error, never anything else.

Anyone who may write ``risk.rules``, ``risk.penalties`` or an input topic may write any
bytes there; these are the shapes such bytes take once decoded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskstream.agents.cep.compiler import RuleError, RuleSet
from riskstream.agents.live_rules import check_ruleset
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.rules.loader import default_ruleset, parse_any
from riskstream.streams.bounds import MAX_DURATION
from riskstream.streams.rule_model import RuleDoc
from riskstream.streams.scoring_model import Penalty
from riskstream.tables.books import PenaltyBook
from tests.unit.rules.harness import Runner

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
durations = st.one_of(
    st.sampled_from(["90s", "10m", "1h", "24h", "30d", "400d"]),
    st.builds(
        "{}{}".format,
        st.integers(min_value=0, max_value=10**14) | st.floats(min_value=0, allow_nan=False),
        st.sampled_from(["ms", "s", "m", "h", "d", "w"]),
    ),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(),
    st.sampled_from(["99999999999d", "3000000d", "400d", "401d", "inf", "nan", "1e400s", "-1s"]),
)


def comprehensions(depth: int, size: int) -> str:
    """``depth`` comprehensions nested over literal lists of ``size`` elements."""
    items = "[" + ",".join(str(n) for n in range(size)) + "]"
    names = [f"v{level}" for level in range(depth)]
    source = "(" + " + ".join(names or ["0"]) + ") < 0"
    for name in reversed(names):
        source = f"{items}.exists({name}, {source})"
    return source


expressions = st.one_of(
    st.sampled_from(["agg.n > 1", "agg.n >= 2 && event.amount > 10.0"]),
    st.sampled_from(
        [
            "agg.n > 3",
            "agg.n > 1 && event.amount > 100.0",
            "event.type == 'payment'",
            "true",
            "event.a.b.c",
            "1 / 0 > 1",
            "size(event.email) > 3",
            "agg.n >",
            "event.email.matches('^[a-z]+@')",
            "'x' * 3",
        ]
    ),
    st.builds(comprehensions, st.integers(min_value=0, max_value=7), st.integers(0, 12)),
    st.text(max_size=30),
)
windows = st.one_of(
    st.sampled_from(
        [
            {"type": "sliding", "size": "1h"},
            {"type": "tumbling", "size": "1d"},
            {"type": "hopping", "size": "1h", "hop": "10m"},
            {"type": "count", "size": 3},
        ]
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["sliding", "tumbling", "hopping", "count"]),
            "size": durations | st.integers(min_value=-5, max_value=20_000),
        },
        optional={"hop": durations},
    ),
    json_values,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the plausible value, sometimes anything JSON can hold."""
    return st.integers(0, 9).flatmap(lambda pick: json_values if pick == 9 else strategy)


rule_documents = st.fixed_dictionaries(
    {
        "id": maybe(st.sampled_from(["fuzz.rule", "fuzz.other"])),
        "version": maybe(st.integers(min_value=1, max_value=2**65)),
        "description": maybe(st.just("A generated rule.")),
        "events": maybe(
            st.lists(st.sampled_from(["payment", "login", "withdrawal"]), min_size=1, max_size=3)
        ),
        "window": maybe(windows),
        "aggregates": maybe(st.just({"n": {"fn": "count"}})),
        "condition": maybe(expressions),
        "severity": maybe(st.integers(min_value=-5, max_value=105)),
    },
    optional={
        "ttl": maybe(durations),
        "lateness": maybe(durations),
        "mode": maybe(st.sampled_from(["active", "shadow", "disabled"])),
        "penalty": maybe(st.sampled_from(["freeze", "block", "review"])),
        "when": maybe(expressions),
        "key": maybe(st.sampled_from(["event.account_id", "event.device_id", "event.ip"])),
    },
)


def events_at(moment: datetime) -> list[dict[str, Any]]:
    base = {"type": "payment", "account_id": "acct-1", "amount": "50.00", "currency": "CNY"}
    return [
        {**base, "event_id": f"e{n}", "occurred_at": (moment + timedelta(minutes=n)).isoformat()}
        for n in range(5)
    ]


@FUZZ
@given(rule_documents)
def test_a_generated_rule_is_refused_cleanly_or_runs_on_the_core(data: dict[str, Any]) -> None:
    try:
        doc = parse_any(data, "generated")
    except RuleError:
        return
    assert isinstance(doc, RuleDoc)
    assert doc.ttl <= MAX_DURATION
    ruleset = RuleSet.of([doc])
    if check_ruleset(ruleset) is not None:
        return  # refused by the core: the rule center records it
    runner = Runner(ruleset)
    for raw in events_at(datetime(2026, 3, 1, tzinfo=UTC)):
        for signal in runner.signals(parse_event(orjson.dumps(raw), max_bytes=65536)):
            assert signal.expires_at - signal.detected_at == doc.ttl


@FUZZ
@given(st.one_of(rule_documents, json_values), st.binary(max_size=40))
def test_the_rule_center_refuses_any_record_with_a_reason_of_its_own(
    data: Any, noise: bytes
) -> None:
    center = RuleCenter([])
    value = json.dumps(data).encode() if noise[:1] != b"\x00" else noise
    refusal = center.apply(b"fuzz.rule", value)
    if refusal is not None:
        # A refusal the validators worded, not an exception the center caught for them.
        assert "cannot be applied" not in refusal.error, refusal.error
        assert center.doc("fuzz.rule") is None


penalty_entries = st.fixed_dictionaries(
    {
        "entity_type": maybe(st.sampled_from(["account", "device", "card"])),
        "entity_id": maybe(st.text(min_size=1, max_size=10)),
        "kind": maybe(st.sampled_from(["freeze", "block", "limit", "allow"])),
        "reason": maybe(st.just("generated")),
        "source": maybe(st.sampled_from(["fuzz.rule", "operator:ops"])),
        "created_at": maybe(st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)),
        "expires_at": maybe(st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)),
    },
    optional={"daily_limit": maybe(st.sampled_from(["10", "Infinity", "-1", "1e30"]))},
)


@FUZZ
@given(penalty_entries, st.datetimes(timezones=st.just(UTC)))
def test_a_generated_penalty_is_refused_cleanly_or_kept(
    data: dict[str, Any], now: datetime
) -> None:
    book = PenaltyBook()
    record = type("Record", (), {"key": b"k", "value": json.dumps(data).encode()})()
    try:
        book.apply_record(record)
    except ValueError:  # pydantic's ValidationError and orjson's decode error are these
        return
    penalty = Penalty.model_validate(data)
    assert book.get(penalty.penalty_id) == penalty
    assert penalty.expires_at - penalty.created_at <= MAX_DURATION
    book.for_entity(penalty.entity_type, penalty.entity_id, now)


event_fields = st.fixed_dictionaries(
    {
        "event_id": maybe(st.text(min_size=1, max_size=8)),
        "type": maybe(st.sampled_from(["payment", "login", "withdrawal", "feedback"])),
        "occurred_at": maybe(
            st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
            | st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "x"])
        ),
        "account_id": maybe(st.text(min_size=1, max_size=8)),
        "amount": maybe(st.sampled_from(["0.01", "1e30", "NaN", "-1", "99999999999999999999"])),
        "currency": maybe(st.sampled_from(["CNY", "usd"])),
    },
    optional={
        "device_id": maybe(st.text(max_size=8)),
        "ip": maybe(st.sampled_from(["10.0.0.1", "::1", "999.1.1.1"])),
        "latitude": maybe(st.floats()),
        "attributes": json_values,
    },
)


@FUZZ
@given(event_fields | json_values)
def test_a_generated_event_is_refused_cleanly_or_applied_by_the_shipped_rules(
    data: Any,
) -> None:
    try:
        event = parse_event(json.dumps(data).encode(), max_bytes=65536)
    except InvalidEventError:
        return
    for outcome in Runner(default_ruleset()).process(event):
        assert outcome.status in {"applied", "duplicate", "late"}
