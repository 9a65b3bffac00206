"""Faust's table recovery, with the stream partitions held still until their queues are empty.

After a (re)start or rebalance, Faust resumes the stream partitions, seeks them to the
committed offsets, and only then resumes flow control, which empties every stream
queue. But the consumer's own flow is already running by then (Faust turned it on to
read the changelogs, or for nothing to read), so messages fetched between the resume
and the emptying are thrown away unacknowledged. The commit can never pass that gap:
the partition stalls until the next restart (faust-streaming #596). Stopping the
consumer's flow first means nothing is fetched until the queues have been emptied; the
seek then starts every partition again from its committed offset.
"""

from __future__ import annotations

from faust.tables import TableManager
from faust.tables.recovery import Recovery


class QueueSafeRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        # Faust's method resumes the consumer's flow again after emptying the queues.
        self.app.consumer.stop_flow()
        await super().on_recovery_completed(generation_id)


class RiskTableManager(TableManager):
    """Faust's table manager with :class:`QueueSafeRecovery`."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = QueueSafeRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
