"""One fault scenario's run: its worker, its traffic, its faults, and the verdict at the end."""

from __future__ import annotations

import shutil
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.lag import GroupLag
from tests.faults.scoreboard import ROWS, Row, save, table
from tests.faults.stream import FaultStream
from tests.faults.traffic import Arrival, Sender
from tests.faults.verdict import NotReplaysSignalsError, explain, judge
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import read_all

RATE = 400.0  # events/s: about what one worker applies on the 2-core test machine
READY_TIMEOUT_S = 120.0
CATCH_UP_TIMEOUT_S = 600.0
# Each scenario's differences in full, for a look after the run (var/ is not versioned).
REPORT_DIR = Path(__file__).resolve().parents[2] / "var" / "faults"


@dataclass
class FaultRun:
    scenario: str
    sandbox: Sandbox
    worker: Worker
    stream: FaultStream
    lag: GroupLag = field(init=False)
    recoveries: list[float] = field(default_factory=list)
    sender: Sender | None = None
    row: Row | None = None
    started: float = field(default_factory=time.monotonic)
    # /stats/ counters summed over the worker processes, each read just before it stops
    # (a kill -9 loses the last moments').
    counters: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.lag = GroupLag(self.sandbox.settings)

    def say(self, text: str) -> None:
        print(f"[faults] {self.scenario}: {text}", flush=True)

    def start(self) -> None:
        self.say("starting the worker")
        self.worker.start(READY_TIMEOUT_S)

    def send(self, stream: Sequence[Arrival], rate: float = RATE) -> Sender:
        self.say(f"sending {len(stream):,} messages at {rate:.0f}/s")
        self.sender = Sender(self.sandbox.settings, stream, rate, self.scenario).start()
        return self.sender

    def recovered(self, since: float, what: str = "the restart") -> float:
        """Waits until the group has caught up with what was waiting now, ``since`` being
        when ``what`` happened (a restart, a member joining); records the seconds."""
        self.lag.catch_up(CATCH_UP_TIMEOUT_S, self.worker.log_tail)
        seconds = time.monotonic() - since
        self.recoveries.append(seconds)
        self.say(f"caught up {seconds:.1f} s after {what}")
        return seconds

    def tally(self, worker: Worker) -> None:
        """Add ``worker``'s counters, before it stops: a new process starts from zero."""
        stats = worker.stats()
        self.counters.update({key: value for key, value in stats.items() if isinstance(value, int)})

    def restart(self, how: int, *, wipe: bool = False) -> None:
        """Stop the worker with ``how`` (SIGTERM or SIGKILL), lose its local store if
        ``wipe``, start it again and wait until it has caught up."""
        name = signal.Signals(how).name
        self.say(f"{name} at {self.sender.sent if self.sender else 0:,} sent")
        self.tally(self.worker)
        code = self.worker.stop(how)
        if how == signal.SIGTERM:
            assert code == 0, f"exit {code} after SIGTERM:\n{self.worker.log_tail()}"
        if wipe:
            shutil.rmtree(self.sandbox.data_dir, ignore_errors=True)
            self.say("local store deleted")
        since = time.monotonic()
        self.worker.start(READY_TIMEOUT_S)
        self.say(f"ready {time.monotonic() - since:.1f} s after the restart")
        self.recovered(since)

    def finish(self, *, republish_allowed: bool) -> Row:
        """Wait for the traffic and the worker to finish, judge the signals against
        replay's and record the row; :meth:`assert_exact` then says if it passed."""
        if self.sender is not None:
            self.sender.join()
        self.say("traffic sent; draining")
        self.lag.drain(CATCH_UP_TIMEOUT_S, self.worker.log_tail)
        settings = self.sandbox.settings
        verdict = judge(read_all(settings, settings.topics.signals), self.stream.expected)
        self.tally(self.worker)
        self.row = Row(
            scenario=self.scenario,
            sent=self.sender.sent if self.sender else 0,
            verdict=verdict,
            recoveries=self.recoveries,
            stats=dict(self.counters),
            exact=verdict.exact(republish_allowed=republish_allowed),
            seconds=time.monotonic() - self.started,
            notes=explain(verdict, self.stream, settings.partitions),
        )
        ROWS.append(self.row)
        for line in [*table([self.row]), *self.row.notes, f"worker counters: {self.row.stats}"]:
            self.say(line)
        save(self.row, REPORT_DIR / f"{self.scenario}.json")
        return self.row

    def assert_exact(self) -> None:
        """The scenario's verdict: replay's signals, and repeats only where allowed."""
        assert self.row is not None, "finish() first"
        if not self.row.exact:
            notes = "; ".join(self.row.notes)
            raise NotReplaysSignalsError(f"{self.scenario}: not replay's signals: {notes}")
