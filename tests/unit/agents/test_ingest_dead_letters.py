"""The ingest stage: a rejected message is acknowledged (its offset committable) only
once its dead letter is stored, and no message, however odd, raises out of a batch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

import riskstream.agents.ingest as ingest_module
from riskstream.agents.batches import PartitionBatches
from riskstream.agents.ingest import Admitted, IngestPipeline
from riskstream.agents.rule_center import RuleCenter
from riskstream.streams.app import create_faust_app
from riskstream.streams.dead_letter import DeadLetter, DeadLetterSender, RecordLimit
from riskstream.streams.outputs import DeadLetterHeaders
from riskstream.streams.settings import Settings
from riskstream.tables.faust_tables import account_state_table, entity_state_table
from tests.unit.agents.test_batches import FakeApp, FakeConsumer


@dataclass
class Message:
    value: bytes | None
    key: bytes | None = b"acct-1"
    topic: str = "payments.transactions"
    partition: int = 0
    offset: int = 7
    timestamp: float = 1795000000.0

    @property
    def tp(self) -> tuple[str, int]:
        return (self.topic, self.partition)


@dataclass
class Event:
    message: Message
    acked: bool = False

    def ack(self) -> bool:
        self.acked = True
        return True


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[IngestPipeline]:
    settings = Settings(data_dir=tmp_path, partitions=2, load_pack=False)
    app = create_faust_app(settings)
    yield IngestPipeline(
        app, settings, RuleCenter([]), account_state_table(app, 2), entity_state_table(app, 2)
    )


class FlakyBroker:
    """Refuses the first ``failures`` sends; at each pause notes what the stage had done."""

    def __init__(self, pipeline: IngestPipeline, events: list[Event], failures: int) -> None:
        self.pipeline = pipeline
        self.events = events
        self.failures = failures
        self.stored: list[DeadLetter] = []
        self.at_pauses: list[tuple[bool, int]] = []

    async def send(self, letter: DeadLetter) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("broker away")
        self.stored.append(letter)

    async def pause(self, seconds: float) -> None:
        acked = any(event.acked for event in self.events)
        self.at_pauses.append((acked, self.pipeline.stats.dead_lettered))


async def no_topic_limit() -> int | None:
    return None


def use(pipeline: IngestPipeline, broker: FlakyBroker) -> None:
    pipeline.output.dead_letters = DeadLetterSender(
        broker.send, RecordLimit(1_000_000, no_topic_limit), sleep=broker.pause
    )


async def test_a_rejected_message_is_acked_only_once_its_dead_letter_is_stored(
    pipeline: IngestPipeline,
) -> None:
    events = [Event(Message(b"not json")), Event(Message(b"", offset=8))]
    broker = FlakyBroker(pipeline, events, failures=3)
    use(pipeline, broker)
    batches = PartitionBatches(FakeApp(FakeConsumer()), pipeline.handle_batch, 2, 10.0)  # type: ignore[arg-type]
    for event in events:
        await batches.add(event)  # type: ignore[arg-type]
    # While the broker refused it: nothing acknowledged, nothing counted.
    assert broker.at_pauses == [(False, 0)] * 3
    assert all(event.acked for event in events)
    assert [dict(letter.headers)[DeadLetterHeaders.REASON] for letter in broker.stored] == [
        b"not_json",
        b"empty",
    ]
    assert pipeline.stats.dead_lettered == 2


async def test_a_message_that_breaks_the_reader_is_dead_lettered_not_raised(
    pipeline: IngestPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_reader(raw: bytes | None, **_: Any) -> Any:
        raise RuntimeError("a bug in the reader")

    monkeypatch.setattr(ingest_module, "parse_event", broken_reader)
    broker = FlakyBroker(pipeline, [], failures=0)
    use(pipeline, broker)
    await pipeline.handle_batch(0, [Event(Message(b'{"type": "payment"}'))])  # type: ignore[list-item]
    (letter,) = broker.stored
    headers = dict(letter.headers)
    assert headers[DeadLetterHeaders.REASON] == b"unprocessable"
    assert b"a bug in the reader" in headers[DeadLetterHeaders.DETAIL]
    assert pipeline.stats.dead_letter_reasons == {"unprocessable": 1}


async def test_an_unreadable_rekey_message_is_dead_lettered_not_raised(
    pipeline: IngestPipeline,
) -> None:
    broker = FlakyBroker(pipeline, [], failures=0)
    use(pipeline, broker)
    garbage = Message(b"\xff not a bundle", key=b"k", topic="riskstream-entity-rekey")
    kept = await pipeline.handle_rekeyed_batch(0, [Event(garbage)])  # type: ignore[list-item]
    assert kept == []  # nothing to wait for: acknowledged with its batch
    (letter,) = broker.stored
    assert dict(letter.headers)[DeadLetterHeaders.REASON] == b"unreadable_rekey"
    assert letter.value == garbage.value


async def test_a_batch_that_breaks_costs_only_the_event_that_breaks_it(
    pipeline: IngestPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[str] = []

    async def apply(partition: int, items: list[Admitted]) -> None:
        if any(item.event_id == "bad" for item in items):
            raise RuntimeError("a bug in applying")
        applied.extend(item.event_id for item in items)

    monkeypatch.setattr(pipeline, "_apply", apply)
    broker = FlakyBroker(pipeline, [], failures=0)
    use(pipeline, broker)
    clock = pipeline.clocks.clock(0)
    events = [Event(Message(b"{}", offset=offset)) for offset in range(3)]
    for offset, (event, event_id) in enumerate(zip(events, ["a", "bad", "c"], strict=True)):
        pipeline.acks.track(event)  # type: ignore[arg-type]
        clock.hold(offset, event_id, (event, Admitted("acct-1", event_id, offset, {}, b"")))  # type: ignore[arg-type]
    for topic in pipeline.clocks.topics:
        clock.bound(topic, 100)
    await pipeline._release(0)
    assert applied == ["a", "c"]
    assert [dict(letter.headers)[DeadLetterHeaders.REASON] for letter in broker.stored] == [
        b"unprocessable"
    ]
    assert all(event.acked for event in events)  # the culprit is in the dead-letter topic
