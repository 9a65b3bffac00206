"""The core's test hooks behave as the conformance runner takes them to: plain values
only, event views with absent fields, the ``ip_prefix`` callback asked and obeyed."""

from __future__ import annotations

import json

import pytest

from riskstream import core

LINE = (
    b'{"event_id": "e1", "type": "login", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "acc-1", "ip": "2001:db8::1"}'
)


def test_values_that_are_not_plain_are_refused() -> None:
    for value in [2**63, -(2**63) - 1, (1, 2), {1: 2}, object(), b"x"]:
        with pytest.raises((TypeError, ValueError)):
            core._evaluate("event.a == 1", {"event": {"a": value}})
    with pytest.raises(ValueError, match="unknown variable"):
        core._evaluate("foo == 1", {"foo": 1})
    with pytest.raises(ValueError, match="refused"):
        core._evaluate("event.a ==", {"event": {"a": 1}})  # not CEL


def test_event_views_hold_absent_fields() -> None:
    view = {"amount": 12.5, "type": "payment"}
    assert core._evaluate("has(event.lat)", {"event": view}) == (
        ("value", False),
        ("value", False),
    )
    assert core._evaluate("event.lat", {"event": view})[0] == ("value", None)
    assert core._evaluate("event.lat > 1.0", {"event": view})[0] == ("error", "KeyError")
    steps = {"first": {"amount": 10.0}}
    assert core._evaluate(
        "event.amount >= 0.8 * steps.first.amount", {"event": view, "steps": steps}
    ) == (("value", True), ("value", True))


def test_the_ip_prefix_callback_is_asked() -> None:
    asked: list[str] = []

    def prefix(ip: str) -> str | None:
        asked.append(ip)
        return None if len(asked) > 1 else f"P:{ip}"

    first = core._parse_line(LINE, prefix)
    assert first is not None and json.loads(first[1])["ip_prefix"] == "P:2001:db8::1"
    second = core._parse_line(LINE, prefix)
    assert second is not None and json.loads(second[1])["ip_prefix"] is None
    assert asked == ["2001:db8::1", "2001:db8::1"]

    def broken(ip: str) -> str | None:
        raise LookupError(ip)

    with pytest.raises(LookupError):
        core._parse_line(LINE, broken)
