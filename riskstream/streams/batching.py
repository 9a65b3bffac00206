"""When output batched across events should leave without waiting for more.

(What is still waiting when offsets are committed is sent first: see
``DrainingProducerBuffer.before_flush``.)
"""

from __future__ import annotations

from typing import Any

import faust
from faust.types import EventT


def caught_up(app: faust.App, event: EventT[Any]) -> bool:
    """Whether ``event`` was the last message of its partition when last fetched: no
    backlog behind it, so what it produced should leave at once."""
    message = event.message
    highwater = app.consumer.highwater(message.tp)
    return highwater is None or message.offset >= highwater - 1
