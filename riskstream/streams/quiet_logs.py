"""One line per kind of trouble, not one per retry.

While the broker is away, aiokafka and Faust log every failed connection, metadata
request and fetch (and Faust an INFO line for each flush of its full producer buffer): a
20 s outage wrote ~115,000 ERROR lines. A :class:`RepeatFilter` on their loggers lets
the first record of a kind through (a kind: the logger, the level and the message's
template with its numbers blanked), then counts the repeats, and once per interval logs
one line with how many were held back and the last of them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LIBRARY_LOGGERS = ("aiokafka", "kafka", "faust", "mode")
SUMMARY_LOGGER = "riskstream.quiet"
_NUMBERS = re.compile(r"\d+")

Clock = Callable[[], float]
Kind = tuple[str, int, str]


@dataclass(slots=True)
class _Run:
    """Records of one kind since its first got through."""

    since: float  # when the current interval began
    held: int = 0
    last: str = ""


class RepeatFilter(logging.Filter):
    """Holds back repeats of ``min_level`` and above; DEBUG passes untouched (whoever
    asks for it wants all of it).

    Thread-safe: Faust runs the Kafka consumer in a thread of its own.
    """

    def __init__(
        self,
        interval_s: float,
        clock: Clock = time.monotonic,
        summary: logging.Logger | None = None,
        min_level: int = logging.INFO,
    ) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.min_level = min_level
        self.clock = clock
        self.summary = summary or logging.getLogger(SUMMARY_LOGGER)
        self._runs: dict[Kind, _Run] = {}
        self._lock = threading.Lock()
        self.held_total = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.min_level:
            return True
        kind = (record.name, record.levelno, _NUMBERS.sub("#", str(record.msg)))
        now = self.clock()
        with self._lock:
            run = self._runs.get(kind)
            if run is None or (run.held == 0 and now - run.since >= self.interval_s):
                self._runs[kind] = _Run(since=now)
                return True
            run.held += 1
            self.held_total += 1
            run.last = _text(record)
            due = self._due(now)
        self._report(due)
        return False

    def flush(self) -> None:
        """Report the kinds whose interval is over (call it now and then: a burst that
        stopped has no next record to report it)."""
        with self._lock:
            due = self._due(self.clock())
        self._report(due)

    def _due(self, now: float) -> list[tuple[Kind, int, str, float]]:
        due = []
        for kind, run in list(self._runs.items()):
            if now - run.since < self.interval_s:
                continue
            if run.held:
                due.append((kind, run.held, run.last, now - run.since))
                self._runs[kind] = _Run(since=now)
            else:
                del self._runs[kind]  # quiet for a whole interval: its next one shows
        return due

    def _report(self, due: list[tuple[Kind, int, str, float]]) -> None:
        for (name, level, _), held, last, span in due:
            self.summary.log(
                level, "%d more like this from %s in the last %.0f s, the last: %s",
                held, name, span, last[:1000],
            )  # fmt: skip


def _text(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a record whose arguments do not fit its message
        return str(record.msg)


def install(interval_s: float, prefixes: tuple[str, ...] = LIBRARY_LOGGERS) -> RepeatFilter:
    """A :class:`RepeatFilter` on every logger under ``prefixes``; call ``cover`` on it
    again later for loggers created since."""
    repeat_filter = RepeatFilter(interval_s)
    cover(repeat_filter, prefixes)
    return repeat_filter


def cover(repeat_filter: RepeatFilter, prefixes: tuple[str, ...] = LIBRARY_LOGGERS) -> None:
    """Put ``repeat_filter`` on every logger under ``prefixes`` that exists now (a logger's
    filters see only the records logged on it, not its children's). The libraries make
    their loggers at import. Another app's filter (tests make several) is replaced."""
    known = list(logging.Logger.manager.loggerDict)
    for name in {*prefixes, *(name for name in known if name.split(".")[0] in prefixes)}:
        logger = logging.getLogger(name)
        for other in [f for f in logger.filters if isinstance(f, RepeatFilter)]:
            if other is not repeat_filter:
                logger.removeFilter(other)
        logger.addFilter(repeat_filter)
