"""The rule language: declarative detection rules as versioned documents.

A rule names the entity it watches (``key``), the events that feed it, and either a
window with aggregates and a condition, or a sequence of steps. Conditions are CEL
expressions (Common Expression Language), compiled once per rule version.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from riskstream.streams import bounds
from riskstream.streams.bounds import MAX_DURATION, MIN_DURATION
from riskstream.streams.outputs import EntityType

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class DurationTooLongError(ValueError):
    """A duration beyond :data:`~riskstream.streams.bounds.MAX_DURATION`."""


def parse_duration(value: Any) -> timedelta:
    """``"90s"``, ``"10m"``, ``"24h"``, ``"30d"``, a number of seconds, or a timedelta;
    never longer than :data:`~riskstream.streams.bounds.MAX_DURATION`."""
    if isinstance(value, timedelta):
        return value
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and len(value) <= 40:
        match = _DURATION.match(value)
        if match:
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds is None or math.isnan(seconds):
        shown = repr(value)[:40]
        raise ValueError(f"not a duration: {shown} (use e.g. 90s, 10m, 24h, 30d)")
    # Checked before a timedelta is made: past ~2.7 million years it overflows.
    if abs(seconds) > MAX_DURATION.total_seconds():
        raise DurationTooLongError(f"a duration is at most {bounds.describe(MAX_DURATION)}")
    return timedelta(seconds=seconds)


def check_positive(name: str, value: timedelta, high: timedelta) -> None:
    """ValueError naming ``name`` unless ``0 < value <= high``."""
    if not timedelta(0) < value <= high:
        raise ValueError(f"{name} must be positive and at most {bounds.describe(high)}")


def check_between(name: str, value: timedelta, low: timedelta, high: timedelta) -> None:
    """ValueError naming ``name`` unless ``low <= value <= high``."""
    if not low <= value <= high:
        raise ValueError(f"{name} lies between {bounds.describe(low)} and {bounds.describe(high)}")


def format_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    Field(json_schema_extra={"type": "string", "examples": ["90s", "10m", "24h", "30d"]}),
]
Expression = Annotated[
    str,
    Field(min_length=1, max_length=bounds.MAX_EXPRESSION_LENGTH, description="A CEL expression."),
]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,99}$")]
AggregateName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,39}$")]

AggregateFunction = Literal[
    "count", "sum", "min", "max", "mean", "distinct", "ratio", "baseline_mean", "deviation"
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowSpec(_Spec):
    """Which events of the entity an aggregate sees, relative to the current event.

    ``sliding``: every window of ``size`` that contains the event; ``tumbling``: the
    aligned window of ``size`` that contains it; ``hopping``: aligned windows of ``size``
    starting every ``hop``; ``count``: the last ``size`` events (an integer).
    """

    type: Literal["sliding", "tumbling", "hopping", "count"]
    size: int | Duration = Field(description="A duration (10m), or a number of events.")
    hop: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _time_sizes_from_seconds(cls, data: Any) -> Any:
        # A bare number is a count for count windows and seconds for the others.
        if isinstance(data, dict) and data.get("type") != "count":
            size = data.get("size")
            if isinstance(size, int | float) and not isinstance(size, bool):
                return {**data, "size": parse_duration(size)}
        return data

    @model_validator(mode="after")
    def _check(self) -> WindowSpec:
        if self.type == "count":
            if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 1:
                raise ValueError("a count window's size is a whole number of events (>= 1)")
            if self.size > bounds.MAX_COUNT_WINDOW_EVENTS:
                raise ValueError(
                    f"window size: a count window holds at most "
                    f"{bounds.MAX_COUNT_WINDOW_EVENTS} events"
                )
        else:
            if not isinstance(self.size, timedelta):
                raise ValueError(f"a {self.type} window's size is a duration such as 10m")
            check_between("window size", self.size, MIN_DURATION, MAX_DURATION)
        if self.type == "hopping":
            if self.hop is None:
                raise ValueError("a hopping window needs hop (e.g. hop: 5m)")
            assert isinstance(self.size, timedelta)
            if not MIN_DURATION <= self.hop <= self.size:
                raise ValueError("window hop must be at least 1ms and no longer than size")
        elif self.hop is not None:
            raise ValueError(f"hop applies to hopping windows, not {self.type}")
        return self


class AggregateSpec(_Spec):
    """One aggregate over the window's events (those passing ``where``).

    ``count``; ``sum``/``min``/``max``/``mean``/``distinct`` of ``field``;
    ``ratio`` of two other aggregates (``of: [numerator, denominator]``);
    ``baseline_mean`` of ``field`` per event over the entity's ``horizon`` before today;
    ``deviation``: the current event's ``field`` divided by that baseline mean.
    """

    fn: AggregateFunction
    field: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$", max_length=bounds.MAX_FIELD_PATH_LENGTH
    )
    where: Expression | None = None
    of: tuple[AggregateName, AggregateName] | None = None
    horizon: Duration | None = None

    @model_validator(mode="after")
    def _check(self) -> AggregateSpec:
        needs_field = {"sum", "min", "max", "mean", "distinct", "baseline_mean", "deviation"}
        if self.fn in needs_field and not self.field:
            raise ValueError(f"{self.fn} needs a field (e.g. field: amount)")
        if self.fn == "ratio" and self.of is None:
            raise ValueError("ratio needs of: [numerator, denominator]")
        if self.fn != "ratio" and self.of is not None:
            raise ValueError("of applies to ratio only")
        if self.fn in {"baseline_mean", "deviation"}:
            if self.horizon is None:
                raise ValueError(f"{self.fn} needs a horizon (e.g. horizon: 30d)")
            check_between("horizon", self.horizon, timedelta(days=1), MAX_DURATION)
        elif self.horizon is not None:
            raise ValueError("horizon applies to baseline_mean and deviation only")
        return self


class StepSpec(_Spec):
    """One step of a sequence: ``when`` tests the event alone; ``match`` correlates it
    with earlier steps, which it sees as ``steps.<name>`` (their first matching event)."""

    name: AggregateName
    when: Expression
    match: Expression | None = None
    times: int = Field(
        1, ge=1, le=bounds.MAX_STEP_TIMES, description="Repetitions needed (within the sequence)."
    )


class SequenceSpec(_Spec):
    """Steps in event-time order within ``within``; or ``absent``: the steps, then nothing
    matching ``absent`` within ``within`` after the last step."""

    steps: list[StepSpec] = Field(min_length=1, max_length=bounds.MAX_SEQUENCE_STEPS)
    within: Duration
    absent: StepSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> SequenceSpec:
        names = [step.name for step in self.steps] + ([self.absent.name] if self.absent else [])
        if len(set(names)) != len(names):
            raise ValueError("step names must be unique")
        if len(self.steps) == 1 and self.absent is None and self.steps[0].times == 1:
            raise ValueError("a sequence needs two steps, a repetition (times > 1) or absent")
        check_positive("within", self.within, bounds.MAX_SEQUENCE_WITHIN)
        return self


class RuleDoc(_Spec):
    """A detection rule, as stored in the ``risk.rules`` topic and in rule files."""

    id: RuleId
    version: int = Field(ge=1, le=bounds.MAX_VERSION)
    mode: Literal["active", "shadow", "disabled"] = "active"
    pattern: str = Field(
        "", max_length=bounds.MAX_NAME_LENGTH, description="Signal pattern; defaults to id."
    )
    description: str = Field(min_length=1, max_length=2000)
    rationale: str = Field("", max_length=4000)
    entity: EntityType = "account"
    key: Expression = Field(
        "event.account_id",
        description="CEL giving the entity key (a string); events whose key is empty or "
        "null are skipped. Any field or combination: event.device_id, "
        "event.ip_prefix, event.device_id + '|' + event.ip ...",
    )
    events: list[Annotated[str, Field(min_length=1, max_length=bounds.MAX_NAME_LENGTH)]] = Field(
        min_length=1,
        max_length=bounds.MAX_EVENT_TYPES,
        description="Event types that feed the rule (e.g. payment, login).",
    )
    when: Expression | None = Field(None, description="CEL filter on the event.")
    window: WindowSpec | None = None
    aggregates: dict[AggregateName, AggregateSpec] = Field(
        default_factory=dict, max_length=bounds.MAX_AGGREGATES
    )
    condition: Expression | None = Field(
        None, description="CEL over event, agg and entity; the rule fires when true."
    )
    sequence: SequenceSpec | None = None
    severity: int = Field(ge=0, le=100)
    penalty: Literal["freeze", "block", "step_up", "review"] | None = Field(
        None, description="A penalty on the entity while the signal is active (the scorer)."
    )
    effect: Literal["decide", "score"] = Field(
        "decide",
        description="decide: the signal can impose friction alone; score: it only adds to "
        "the score (alone it stays below the review threshold) and carries no penalty.",
    )
    ttl: Duration = timedelta(hours=24)
    lateness: Duration = Field(
        timedelta(minutes=10), description="How late an event may arrive and still count."
    )

    @property
    def signal_pattern(self) -> str:
        return self.pattern or self.id

    @model_validator(mode="after")
    def _check(self) -> RuleDoc:
        if (self.window is None) == (self.sequence is None):
            raise ValueError("a rule has either a window (with aggregates) or a sequence")
        if self.window is not None:
            if self.condition is None:
                raise ValueError("a window rule needs a condition")
            for name, spec in self.aggregates.items():
                if spec.of is not None:
                    missing = [part for part in spec.of if part not in self.aggregates]
                    if missing:
                        raise ValueError(f"aggregate {name}: unknown {missing} in of")
                    if name in spec.of:
                        raise ValueError(f"aggregate {name} cannot be a ratio of itself")
        elif self.aggregates:
            raise ValueError("aggregates belong to window rules")
        if self.effect == "score" and self.penalty is not None:
            # A penalty imposes friction alone, which a score-effect rule may not do.
            raise ValueError(
                f"penalty: a rule of effect score cannot carry a penalty ({self.penalty}); "
                "drop the penalty or use effect: decide"
            )
        check_positive("ttl", self.ttl, MAX_DURATION)
        if not timedelta(0) <= self.lateness <= bounds.MAX_LATENESS:
            raise ValueError(f"lateness lies between 0s and {bounds.describe(bounds.MAX_LATENESS)}")
        return self


def rule_json_schema() -> dict[str, Any]:
    """The JSON Schema of rule documents, for editors and external validation."""
    schema = RuleDoc.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "riskstream detection rule"
    return schema
