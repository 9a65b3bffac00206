"""When output batched across events should leave without waiting for more.

(What is still waiting when offsets are committed is sent first: see
``DrainingProducerBuffer.before_flush``.)
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import faust
import faust.streams as faust_streams
from faust.types import EventT


def caught_up(app: faust.App, event: EventT[Any]) -> bool:
    """Whether ``event`` was the last message of its partition when last fetched: no
    backlog behind it, so what it produced should leave at once."""
    message = event.message
    highwater = app.consumer.highwater(message.tp)
    return highwater is None or message.offset >= highwater - 1


@contextmanager
def acting_as(event: EventT[Any]) -> Iterator[None]:
    """Table writes and deletes made meanwhile are filed under ``event``'s partition.

    Faust takes a table write's partition (its changelog partition and its RocksDB
    database) from the stream's current event, which only the stream's own iteration
    sets; a batch of a partition's events processed later, by a timer say, names one of
    them as current. Faust keeps it in a context variable (``faust.streams``).
    """
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)
