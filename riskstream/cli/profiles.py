"""``riskstream profiles build``: the scheduled engine's job, from cron, a Kubernetes
CronJob or by hand (the worker leader runs the same build on its crontab).

From an archive (``--from-jsonl``) the build starts empty and reads the whole file; from
the topics (``--from-topics``) it takes up the previous published state and reads only
what came since (``agents/history_job.py``). The snapshot goes to a JSONL file
(``--out``: one record per entity, as on the topic) and/or to the profiles topic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import faust
from faust.cli import AppCommand, argument, option
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from riskstream.agents.history_job import (
    BuildReport,
    build_from_topics,
    encoded_records,
    feed,
    max_record_bytes,
    publish,
)
from riskstream.agents.history_job import Progress as ProgressCallback
from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.cli.broker import require_broker
from riskstream.cli.command import Command
from riskstream.cli.offline import check_token_secret, wide_console
from riskstream.offline.jsonl import MAX_LINE_BYTES, read_lines
from riskstream.streams.events import Event, to_epoch_ms
from riskstream.streams.redaction import tokeniser_for
from riskstream.streams.settings import get_settings
from riskstream.tables.history import HistoryBuilder
from riskstream.tables.history_book import MAX_RECORD_BYTES
from riskstream.tables.history_summary import Snapshot


class BuildInputError(ValueError):
    """The caller's mistake: a usage error (one line, exit status 2)."""


def parse_as_of(text: str) -> int:
    """``--as-of``: an ISO 8601 time; one without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BuildInputError(
            f"--as-of {text[:40]!r} is not an ISO time (e.g. 2026-12-07T00:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_epoch_ms(moment)


def read_archive(path: Path, report: BuildReport) -> list[Event]:
    """The archive's events in event-time order (file order on ties), card numbers
    tokenised as the ingest does; bad lines counted by reason."""
    redact = tokeniser_for(get_settings()).tokenise
    events: list[Event] = []
    try:
        for _, raw in read_lines(path):
            try:
                events.append(parse_event(raw, max_bytes=MAX_LINE_BYTES, redact=redact))
            except InvalidEventError as rejected:
                report.refused[rejected.rejection.reason] += 1
    except OSError as error:
        raise BuildInputError(f"cannot read {path}: {error.strerror or error}") from None
    events.sort(key=lambda event: event.occurred_ms)
    return events


def write_snapshot(path: Path, builder: HistoryBuilder, snapshot: Snapshot) -> None:
    """One record value per line (the state kept whole: a file has no size limit)."""
    scratch = BuildReport()
    try:
        with path.open("wb") as sink:
            for _, value in encoded_records(builder, snapshot, set(), MAX_RECORD_BYTES, scratch):
                if value is not None:
                    sink.write(value + b"\n")
    except OSError as error:
        raise BuildInputError(f"cannot write {path}: {error.strerror or error}") from None


@contextmanager
def progress_bar(console: Console) -> Iterator[ProgressCallback]:
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def show(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield show


def build(
    from_jsonl: str | None, from_topics: bool, as_of: str | None, out: str | None, publish_: bool
) -> BuildReport:
    if (from_jsonl is None) == (not from_topics):
        raise BuildInputError("give one of --from-jsonl FILE and --from-topics")
    if out is None and not publish_:
        raise BuildInputError("give --out FILE, --publish, or both")
    as_of_ms = parse_as_of(as_of) if as_of is not None else None
    settings = get_settings()
    console = wide_console()
    if publish_ or from_topics:
        require_broker(settings)
    with progress_bar(console) as progress:
        if from_topics:
            try:
                report, builder, snapshot = build_from_topics(
                    settings, as_of_ms=as_of_ms, publish_to_topic=publish_, progress=progress
                )
            except ValueError as error:
                raise BuildInputError(str(error)) from None
        else:
            assert from_jsonl is not None
            report = BuildReport()
            events = read_archive(Path(from_jsonl), report)
            if as_of_ms is None:  # the end of the file
                as_of_ms = events[-1].occurred_ms if events else 0
            kept = [event for event in events if event.occurred_ms <= as_of_ms]
            report.events_skipped = len(events) - len(kept)
            builder = HistoryBuilder()
            snapshot = feed(builder, kept, as_of_ms, report, progress, len(kept))
            if publish_:
                records = encoded_records(
                    builder, snapshot, set(), max_record_bytes(settings), report
                )
                publish(settings, records, report, progress, len(snapshot))
        if out is not None:
            write_snapshot(Path(out), builder, snapshot)
    return report


def summary(report: BuildReport) -> str:
    as_of = datetime.fromtimestamp(report.as_of_ms / 1000, UTC).isoformat()
    parts = [
        f"profiles as of {as_of}: {report.entities:,} entities from {report.events_fed:,} events"
    ]
    if report.resumed_from_ms is not None:
        parts.append(f"{report.entities_resumed:,} taken up from the previous build")
    if report.published or report.tombstones:
        parts.append(f"{report.published:,} published, {report.tombstones:,} tombstones")
    if report.state_left_out:
        parts.append(f"{report.state_left_out:,} published without their state (too large)")
    if report.unmatched_verdicts:
        parts.append(f"{report.unmatched_verdicts:,} verdicts on unknown transactions")
    if report.refused:
        shown = ", ".join(f"{reason} {count:,}" for reason, count in report.refused.most_common())
        parts.append(f"refused: {shown}")
    return "; ".join(parts)


def register_profiles(app: faust.App) -> None:
    @app.command(
        argument("action", type=str),
        option("--from-jsonl", type=str, default=None, help="Build from an archive (JSONL)."),
        option("--from-topics", is_flag=True, default=False,
               help="Build from the input topics, taking up the published state."),
        option("--as-of", type=str, default=None,
               help="ISO time (UTC without a zone); default: now, or the file's end."),
        option("--out", type=str, default=None, help="Write the snapshot here (JSONL)."),
        option("--publish", "publish_", is_flag=True, default=False,
               help="Publish the snapshot to the profiles topic."),
        base=Command,
    )  # fmt: skip
    async def profiles(
        self: AppCommand,
        action: str,
        from_jsonl: str | None,
        from_topics: bool,
        as_of: str | None,
        out: str | None,
        publish_: bool,
    ) -> None:
        """build: the long-horizon profiles (7/30/90 days per account, merchant,
        counterparty, device and IP) as of a time, written and/or published."""
        if action != "build":
            raise self.UsageError(f"unknown action {action[:40]!r}; use: profiles build ...")
        check_token_secret("profiles build")
        try:
            report = build(from_jsonl, from_topics, as_of, out, publish_)
        except BuildInputError as error:
            raise self.UsageError(str(error)) from None
        Console(stderr=True).print(summary(report), markup=False, soft_wrap=True)
