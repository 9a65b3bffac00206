"""Long-horizon profiles in a replay: the snapshot in force for each event.

Live, the newest published snapshot applies. A replay (the offline scoring pass) takes
its snapshots in event time instead, at each UTC midnight by default, each from what
was known before it: so a replay is deterministic, and no transaction is judged with a
profile that already holds it, or a verdict given after it. Snapshots are lazy
(``history_summary.LazySnapshot``): a day costs the entities it touches.

    history = ReplayHistory()
    for event in events_in_event_time_order:
        snapshot = history.observe(event)   # the profiles in force for ``event``
        ... gather(event, ..., history=snapshot) when it is a transaction ...
"""

from __future__ import annotations

from riskstream.streams.events import Event
from riskstream.tables.history import DAY_MS, HistoryBuilder, HistoryConfig
from riskstream.tables.history_summary import HistorySource, LazySnapshot


class ReplayHistory:
    """Feeds a builder the replay's events and hands out the snapshot in force.

    ``every_ms``: the snapshot period (a day); a snapshot is taken at each multiple of it
    since the epoch (UTC midnights). ``builder``: one that holds an earlier state (a
    previous build's) to go on from; a fresh one by default. An event older than the
    snapshot in force (a late one) is judged with that snapshot: time never goes back.
    """

    def __init__(
        self,
        builder: HistoryBuilder | None = None,
        *,
        every_ms: int = DAY_MS,
        config: HistoryConfig | None = None,
    ) -> None:
        if every_ms <= 0:
            raise ValueError("the snapshot period must be positive")
        self.builder = builder or HistoryBuilder(config)
        self.every_ms = every_ms
        self.current: LazySnapshot | None = None
        self.snapshots = 0

    def in_force(self, at_ms: int) -> LazySnapshot:
        """The snapshot in force at ``at_ms``, taken now if its boundary has passed."""
        boundary = at_ms - at_ms % self.every_ms
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
