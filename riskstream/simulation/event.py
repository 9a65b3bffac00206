"""The simulator's event: a contract v1 payload with its ground truth kept beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from riskstream.streams.codec import dumps

Kind = Literal["transaction", "account_event", "feedback"]
# Which part of its labelled story an event is: "attack", the fraud itself (the
# fraudster's actions, and the reports of them), or "context", what the story needs
# around it (a victim's ordinary history, a merchant's normal sales, every event of a
# look-alike). Meaningless on an event without a scenario.
Role = Literal["attack", "context"]


@dataclass(frozen=True, slots=True)
class SimEvent:
    kind: Kind
    payload: dict[str, Any]
    scenario: str | None = None  # ground truth, kept off the event itself
    role: Role = "attack"  # with a scenario: the event's part in it

    @property
    def occurred_at(self) -> datetime:
        value = self.payload["occurred_at"]
        assert isinstance(value, datetime)
        return value

    @property
    def key(self) -> bytes:
        return str(self.payload["account_id"]).encode()

    def encode(self) -> bytes:
        return dumps(self.payload)
