"""The task dump shows where each task waits, through Faust's awaitable wrappers."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

from riskstream.streams.diagnostics import dump_tasks


async def _innermost_wait(event: asyncio.Event) -> None:
    await event.wait()


class _Wrapped:
    """Awaits a coroutine through its ``__await__``, as Faust's agent wrapper does."""

    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    def __await__(self) -> Generator[Any, None, None]:
        return _innermost_wait(self.event).__await__()


async def _outer(event: asyncio.Event) -> None:
    await _Wrapped(event)


async def test_dump_follows_the_await_chain_through_a_wrapper() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(_outer(event), name="stuck-agent")
    await asyncio.sleep(0)
    dump = dump_tasks(asyncio.get_running_loop())
    event.set()
    await task
    section = dump[dump.index("task stuck-agent:") :]
    assert "_outer" in section
    assert "_innermost_wait" in section.split("task ", 2)[1]
