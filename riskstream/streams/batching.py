"""Batching output across events without losing it: when to flush, and a flush that
always runs before Faust commits.

Faust commits a consumer offset only after ``producer.flush()``: whatever was sent
for an event before its offset is committed is on the broker by then. Output an agent
keeps in a buffer of its own (re-keyed events waiting to be bundled) is not sent yet;
handing it to the producer first keeps the same promise for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.types import EventT

Flush = Callable[[], Awaitable[None]]


def flush_before_commit(app: faust.App, flush: Flush) -> None:
    """Have ``flush`` run at the start of every flush of the app's producer."""
    producer: Any = app.producer
    hooks: list[Flush] | None = getattr(producer, "_riskstream_flush_hooks", None)
    if hooks is None:
        hooks = producer._riskstream_flush_hooks = []
        own_flush = producer.flush

        async def flush_all() -> None:
            for hook in list(hooks):
                await hook()
            await own_flush()

        # Faust has no hook here; an attribute on the instance shadows the method.
        producer.flush = flush_all
    hooks.append(flush)


def caught_up(app: faust.App, event: EventT[Any]) -> bool:
    """Whether ``event`` was the last message of its partition when last fetched: no
    backlog behind it, so what it produced should leave at once."""
    message = event.message
    highwater = app.consumer.highwater(message.tp)
    return highwater is None or message.offset >= highwater - 1
