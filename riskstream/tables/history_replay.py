"""Long-horizon profiles in a replay: the snapshot in force for each event.

Live, the newest published snapshot applies: the worker leader builds one as of the start
of each ``RISKSTREAM_PROFILES_PERIOD_MINUTES`` (``agents/history_cron``). A replay (the
offline scoring pass) takes its snapshots in event time instead, at the same period
starts, each from what was known before it: so a replay is deterministic, and no
transaction is judged with a profile that already holds it, or a verdict given after it.
Snapshots are lazy (``history_summary.LazySnapshot``): a period costs the entities it
touches.

    history = ReplayHistory()
    for event in events_in_event_time_order:
        snapshot = history.observe(event)   # the profiles in force for ``event``
        ... gather(event, ..., history=snapshot) when it is a transaction ...
"""

from __future__ import annotations

from riskstream.streams.events import Event
from riskstream.streams.settings import get_settings
from riskstream.tables.history import HistoryBuilder, HistoryConfig
from riskstream.tables.history_summary import HistorySource, LazySnapshot


def period_start(at_ms: int, every_ms: int) -> int:
    """The start of the snapshot period ``at_ms`` falls in (multiples of ``every_ms``
    since the epoch: with a period that divides a day, the same times each UTC day)."""
    return at_ms - at_ms % every_ms


class ReplayHistory:
    """Feeds a builder the replay's events and hands out the snapshot in force.

    ``every_ms``: the snapshot period (``RISKSTREAM_PROFILES_PERIOD_MINUTES`` by default);
    a snapshot is taken at each multiple of it since the epoch. ``builder``: one that
    holds an earlier state (a previous build's) to go on from; a fresh one by default. An
    event older than the snapshot in force (a late one) is judged with that snapshot: time
    never goes back.
    """

    def __init__(
        self,
        builder: HistoryBuilder | None = None,
        *,
        every_ms: int | None = None,
        config: HistoryConfig | None = None,
    ) -> None:
        if every_ms is None:
            every_ms = get_settings().profiles_period_ms
        if every_ms <= 0:
            raise ValueError("the snapshot period must be positive")
        self.builder = builder or HistoryBuilder(config)
        self.every_ms = every_ms
        self.current: LazySnapshot | None = None
        self.snapshots = 0

    def in_force(self, at_ms: int) -> LazySnapshot:
        """The snapshot in force at ``at_ms``, taken now if its boundary has passed."""
        boundary = period_start(at_ms, self.every_ms)
        if self.current is None or boundary > self.current.as_of_ms:
            self.current = LazySnapshot(self.builder, boundary)
            self.snapshots += 1
        return self.current

    def observe(self, event: Event) -> HistorySource:
        """The snapshot in force for ``event``; then ``event`` is learnt (for later
        snapshots only: the entities it changes are frozen in this one first)."""
        snapshot = self.in_force(event.occurred_ms)
        snapshot.freeze(self.builder.touches(event))
        self.builder.feed(event)
        return snapshot
