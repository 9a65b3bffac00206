"""A circuit breaker on the signals of each rule: at most so many a second.

A rule gone wild (a condition that holds for every event, pushed by mistake or by
someone who may write the rules topic) would flood the signals topic and every worker's
profile book. Past its rate, a rule's signals are dropped and counted, and the log says
so once a second; the next second starts afresh.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)


class SignalBreaker:
    def __init__(self, per_second: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.clock = clock
        self.dropped: Counter[str] = Counter()
        self._second = -1
        self._sent: Counter[str] = Counter()

    def allows(self, rule_id: str) -> bool:
        """Whether a signal of ``rule_id`` may go out now; counts it if so."""
        second = int(self.clock())
        if second != self._second:
            self._second = second
            self._sent.clear()
        if self._sent[rule_id] >= self.per_second:
            if self.dropped[rule_id] % self.per_second == 0:
                log.error(
                    "rule %s: more than %s signals a second, the rest dropped (%s so far)",
                    rule_id, self.per_second, self.dropped[rule_id] + 1,
                )  # fmt: skip
            self.dropped[rule_id] += 1
            return False
        self._sent[rule_id] += 1
        return True
