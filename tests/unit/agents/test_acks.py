"""Events done out of offset order are acknowledged in offset order, as a run from the
oldest: Faust never commits past an event still held."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from riskstream.agents.acks import OrderedAcks


@dataclass(eq=False)
class Message:
    tp: tuple[str, int]
    offset: int


@dataclass(eq=False)
class Event:
    message: Message
    log: list[int]

    def ack(self) -> bool:
        self.log.append(self.message.offset)
        return True


@dataclass
class Consumer:
    _unacked_messages: set[Any] = field(default_factory=set)


@dataclass
class App:
    consumer: Consumer = field(default_factory=Consumer)


def read(
    acks: OrderedAcks, app: App, tp: tuple[str, int], offsets: range, log: list[int]
) -> list[Event]:
    events = [Event(Message(tp, offset), log) for offset in offsets]
    for event in events:
        app.consumer._unacked_messages.add(event.message)
        acks.track(event)  # type: ignore[arg-type]
    return events


def test_an_event_done_early_waits_for_the_older_ones_of_its_partition() -> None:
    app = App()
    acks = OrderedAcks(app)  # type: ignore[arg-type]
    log: list[int] = []
    other: list[int] = []
    a = read(acks, app, ("t", 0), range(4), log)
    b = read(acks, app, ("t", 1), range(2), other)
    for index in (3, 1, 2):
        acks.done(a[index])  # type: ignore[arg-type]
    assert log == []  # offset 0 is held: nothing may be committed
    acks.done(b[0])  # type: ignore[arg-type]
    assert other == [0]  # another partition does not wait
    acks.done(a[0])  # type: ignore[arg-type]
    assert log == [0, 1, 2, 3]
    assert len(acks) == 1


def test_let_go_events_are_neither_acknowledged_nor_waited_for() -> None:
    app = App()
    acks = OrderedAcks(app)  # type: ignore[arg-type]
    log: list[int] = []
    events = read(acks, app, ("t", 0), range(3), log)
    acks.done(events[1])  # type: ignore[arg-type]
    acks.abandon_all()
    assert app.consumer._unacked_messages == set()
    acks.done(events[0])  # type: ignore[arg-type]  # finished after the rebalance began
    assert log == []
    assert len(acks) == 0
