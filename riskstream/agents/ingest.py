"""The ingest agent: validate, dead-letter, apply to account state, publish signals."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.types import Message

from riskstream.agents.engine import DetectionEngine, Outcome
from riskstream.agents.validation import InvalidEventError, Rejection, parse_event
from riskstream.streams.codec import dumps
from riskstream.streams.outputs import DeadLetterHeaders, Signal
from riskstream.streams.settings import Settings
from riskstream.tables.account_state import AccountState
from riskstream.tables.faust_tables import StateTable

log = logging.getLogger(__name__)
REROUTED_HEADER = "riskstream.rerouted-from"


@dataclass(slots=True)
class IngestStats:
    """Counters shown on the console and exported to Prometheus."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    late: int = 0
    dead_lettered: int = 0
    rerouted: int = 0
    signals: int = 0
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "late": self.late,
            "dead_lettered": self.dead_lettered,
            "rerouted": self.rerouted,
            "signals": self.signals,
            "dead_letter_reasons": dict(self.dead_letter_reasons),
        }


class IngestPipeline:
    """The Faust shell around :class:`DetectionEngine`."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        engine: DetectionEngine,
        table: StateTable[AccountState],
    ) -> None:
        names = settings.topics
        self.settings = settings
        self.engine = engine
        self.table = table
        self.stats = IngestStats()
        self.inputs = app.topic(names.transactions, names.account_events, names.feedback)
        self.signals_topic = app.topic(names.signals)
        self.dead_letter_topic = app.topic(names.dead_letter)
        self._reroute_topics = {name: app.topic(name) for name in self.inputs.topics}
        app.agent(self.inputs, name="ingest")(self._agent)

    async def _agent(self, stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await self.handle(event.message)

    async def handle(self, message: Message) -> Outcome | None:
        """Process one raw message; returns the engine outcome when it reached the engine."""
        self.stats.received += 1
        try:
            event = parse_event(
                message.value,
                max_bytes=self.settings.max_message_bytes,
                now_ms=int(time.time() * 1000),
            )
        except InvalidEventError as rejected:
            await self.dead_letter(message, rejected.rejection)
            return None
        key = event.account_id.encode()
        if message.key != key:
            # Keyed wrongly, the event sits on another account's partition and would
            # split its state; send it round again under the right key.
            await self._reroute_topics[message.topic].send(
                key=key,
                value=message.value,
                headers=[
                    (
                        REROUTED_HEADER,
                        f"{message.topic}/{message.partition}/{message.offset}".encode(),
                    )
                ],
            )
            self.stats.rerouted += 1
            return None
        state = self.table.get(event.account_id) or AccountState()
        outcome = self.engine.process(state, event)
        # A duplicate is written back too: if a crash left the local store ahead of the
        # changelog, this puts the changelog level again.
        self.table.set(event.account_id, state)
        if outcome.status == "applied":
            self.stats.applied += 1
        elif outcome.status == "duplicate":
            self.stats.duplicates += 1
        else:
            self.stats.late += 1
        for signal in outcome.signals:
            await self.publish(signal)
        return outcome

    async def publish(self, signal: Signal) -> None:
        await self.signals_topic.send(key=signal.entity_id.encode(), value=dumps(signal))
        self.stats.signals += 1

    async def dead_letter(self, message: Message, rejection: Rejection) -> None:
        """Forward the untouched bytes with the reason and where they came from."""
        headers = [
            (DeadLetterHeaders.REASON, rejection.reason.encode()),
            (DeadLetterHeaders.DETAIL, rejection.detail[:2000].encode()),
            (DeadLetterHeaders.TOPIC, message.topic.encode()),
            (DeadLetterHeaders.PARTITION, str(message.partition).encode()),
            (DeadLetterHeaders.OFFSET, str(message.offset).encode()),
            (DeadLetterHeaders.TIMESTAMP, str(message.timestamp).encode()),
        ]
        await self.dead_letter_topic.send(
            key=message.key, value=message.value or b"", headers=headers
        )
        self.stats.dead_lettered += 1
        reasons = self.stats.dead_letter_reasons
        reasons[rejection.reason] = reasons.get(rejection.reason, 0) + 1
        log.warning(
            "dead-lettered %s/%s/%s: %s (%s)",
            message.topic,
            message.partition,
            message.offset,
            rejection.reason,
            rejection.detail[:200],
        )
