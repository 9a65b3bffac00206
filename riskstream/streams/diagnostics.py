"""A task dump for a worker that seems stuck: ``kill -USR2 <pid>`` logs every task."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)


def await_chain(task: asyncio.Task[Any]) -> Iterator[str]:
    """Where a task waits: each coroutine down the ``await`` chain, with its line."""
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            inner = _wrapped_coroutine(awaited)
            if inner is None:
                yield repr(awaited)[:200]
                return
            awaited = inner
            continue
        yield f"{frame.f_code.co_qualname} ({frame.f_code.co_filename}:{frame.f_lineno})"
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)


def _wrapped_coroutine(awaitable: Any) -> Any:
    """The coroutine behind an ``__await__`` wrapper, which exposes no attribute for it."""
    if type(awaitable).__name__ != "coroutine_wrapper":
        return None
    found = [ref for ref in gc.get_referents(awaitable) if asyncio.iscoroutine(ref)]
    return found[0] if found else None


def dump_tasks(loop: asyncio.AbstractEventLoop) -> str:
    lines = []
    for task in sorted(asyncio.all_tasks(loop), key=lambda task: task.get_name()):
        lines.append(f"task {task.get_name()}:")
        lines.extend(f"    {step}" for step in await_chain(task))
    return "\n".join(lines)


def consumer_state(app: Any) -> str:
    """Faust's view of each input partition: fetching, paused, buffered, offsets.

    Reads Faust's private attributes, so every one is optional.
    """
    consumer = app.consumer
    fields = {
        "flow_active": getattr(consumer, "flow_active", "?"),
        "app_flow_control_active": app.flow_control.is_active(),
        "in_recovery": getattr(app, "in_recovery", "?"),
        "assignment": sorted(map(str, consumer.assignment())),
        "active": sorted(map(str, getattr(consumer, "_active_partitions", None) or ())),
        "paused": sorted(map(str, getattr(consumer, "_paused_partitions", ()))),
        "buffered": sorted(map(str, getattr(consumer, "_buffered_partitions", ()))),
        "read_offset": {str(k): v for k, v in getattr(consumer, "_read_offset", {}).items()},
        "committed": {str(k): v for k, v in getattr(consumer, "_committed_offset", {}).items()},
        "unacked": sorted(
            f"{message.tp.topic}/{message.tp.partition}/{message.offset}"
            for message in getattr(consumer, "_unacked_messages", ())
        ),
    }
    return "\n".join(f"  {name}: {value}" for name, value in fields.items())


def install_task_dump(loop: asyncio.AbstractEventLoop, app: Any = None) -> None:
    """Log all tasks with their await chains (and the consumer's state, given the app)
    whenever the process gets SIGUSR2."""

    def dump() -> None:
        state = "" if app is None else f"\nconsumer:\n{consumer_state(app)}"
        log.warning("task dump:\n%s%s", dump_tasks(loop), state)

    loop.add_signal_handler(signal.SIGUSR2, dump)
