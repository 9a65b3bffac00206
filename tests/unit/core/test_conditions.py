"""The core's conditions (scoring rules' ``when``) and the context they are tested in:
what they refuse, and that an evaluation error is "does not hold"."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from riskstream.core import CelContext, Condition


def context(amount: str = "120.00", **variables: Any) -> CelContext:
    fields = {"event_id": "tx-1", "type": "payment", "account_id": "acct-1", "ts": 1.0,
              "amount": amount, "kind": "transaction"}  # fmt: skip
    return CelContext(orjson.dumps({"ms": 1000, "fields": fields}), variables)


def test_a_condition_reads_the_event_as_rules_see_it_and_the_other_variables() -> None:
    big = Condition("event.amount >= 100.0 && spent_today < 50.0")
    assert big.test(context("120.00", spent_today=10.0))
    assert not big.test(context("99.99", spent_today=10.0))
    assert not big.test(context("120.00", spent_today=60.0))
    flagged = Condition('"velocity" in profiles.account.patterns')
    assert flagged.test(context(profiles={"account": {"patterns": ["velocity"]}}))


def test_an_evaluation_error_does_not_hold() -> None:
    # No such key, no overload: false, never an exception out of the scorer.
    assert not Condition("profiles.device.count > 0").test(context(profiles={}))
    assert not Condition('event.amount > "x"').test(context())
    assert not Condition("event.amount").test(context()), "a double is not true"


def test_what_the_core_refuses_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="refused"):
        Condition("event.amount >")
    with pytest.raises(ValueError, match="unknown variable"):
        context(nonsense=1)
    with pytest.raises(ValueError, match="unknown variable"):
        context(event={"amount": 1.0})  # the event comes from the projection only
    with pytest.raises(ValueError, match="projection"):
        CelContext(b"not json", {})
    with pytest.raises(TypeError):
        context(profiles={"account": {"since": object()}})
