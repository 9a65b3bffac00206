"""A rule suspended for its time: the record a worker publishes to the suspensions topic.

A worker that times one evaluation of a rule over ``RISKSTREAM_RULE_TIME_BUDGET_MS``
disables that rule version at once on itself, and publishes a :class:`RuleSuspension`
(key = rule id) to the compacted ``risk.rule-suspensions`` topic, which every worker
follows: the rule version is then disabled on every worker, and after a restart too,
until a new version of the rule arrives.

A topic of its own rather than a record on ``risk.rules``: workers may write it without
being allowed to write rules, and a suspension can only ever switch one rule version
off, never change or enable anything, so it needs no second admin.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from riskstream.streams import bounds
from riskstream.streams.rule_model import RuleId

MAX_RECORD_BYTES = 4096  # a suspension is a few hundred bytes; anything larger is not one


class SuspensionError(ValueError):
    """A suspensions record that is not a suspension (the reason says why)."""


class RuleSuspension(BaseModel):
    """Rule ``rule_id`` at ``version`` took ``took_ms`` for one evaluation, over the
    budget, on ``worker``: that version is disabled everywhere."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: RuleId
    version: int = Field(ge=1, le=bounds.MAX_VERSION)
    kind: Literal["detect", "score"]
    took_ms: float = Field(ge=0, le=1e9)
    budget_ms: float = Field(gt=0, le=1e9)
    worker: Annotated[str, Field(min_length=1, max_length=200)]
    at: AwareDatetime

    @property
    def reason(self) -> str:
        return (
            f"one evaluation took {self.took_ms:.0f} ms on {self.worker}, "
            f"the budget is {self.budget_ms:.0f} ms"
        )

    def encode(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


def parse_suspension(key: bytes | None, value: bytes | None) -> RuleSuspension:
    """The suspension a record of the suspensions topic holds; SuspensionError, with a
    reason that quotes nothing of the record, when it holds none."""
    if value is None:
        raise SuspensionError("a tombstone lifts nothing: a new rule version does")
    if len(value) > MAX_RECORD_BYTES:
        raise SuspensionError(f"{len(value)} bytes, a suspension is at most {MAX_RECORD_BYTES}")
    try:
        suspension = RuleSuspension.model_validate(orjson.loads(value))
    except orjson.JSONDecodeError:
        raise SuspensionError("not JSON") from None
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in item["loc"]) for item in error.errors()})
        raise SuspensionError(f"not a suspension ({', '.join(fields) or 'the record'})") from None
    if key is None or key.decode(errors="replace") != suspension.rule_id:
        raise SuspensionError(f"the record key is not the rule id {suspension.rule_id}")
    return suspension
