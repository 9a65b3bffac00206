"""``riskstream audit verify``: every hash chain of the audit topic checked, end to end."""

from __future__ import annotations

from collections.abc import Iterator

import faust
from faust.cli import AppCommand, argument
from kafka import KafkaConsumer, TopicPartition

from riskstream.cli.broker import require_broker
from riskstream.cli.command import Command, fail
from riskstream.streams.audit_chain import AuditReport, verify
from riskstream.streams.kafka_security import client_options
from riskstream.streams.settings import Settings, get_settings

POLL_MS = 1000


class BrokenAuditError(Exception):
    """A chain is broken; the message is the first broken link, in one line."""


def read_audit(settings: Settings) -> Iterator[tuple[int, bytes | None]]:
    """``(offset, value)`` of every record of the audit topic, up to its end as it is now."""
    require_broker(settings)
    topic = settings.topics.audit
    consumer = KafkaConsumer(**client_options(settings), group_id=None, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return
        # One partition by the topic catalog; more would each be read in turn.
        for partition in partitions:
            consumer.assign([partition])
            consumer.seek_to_beginning(partition)
            end = consumer.end_offsets([partition])[partition]
            while consumer.position(partition) < end:
                for record in consumer.poll(timeout_ms=POLL_MS).get(partition, []):
                    if record.offset < end:
                        yield record.offset, record.value
    finally:
        consumer.close()


def verify_topic(settings: Settings) -> AuditReport:
    """The report of the audit topic; raises :class:`BrokenAuditError` at a broken link."""
    report = verify(read_audit(settings))
    if report.broken is not None:
        raise BrokenAuditError(
            f"{report.broken.line()} ({report.entries} entries read, {report.chains} chains)"
        )
    return report


def summary(report: AuditReport) -> str:
    older = f", {report.unchained} from before the chains" if report.unchained else ""
    return f"audit trail intact: {report.entries} entries in {report.chains} chains{older}"


def register_audit(app: faust.App) -> None:
    @app.command(argument("action", type=str), base=Command)
    async def audit(self: AppCommand, action: str) -> None:
        """Audit trail: verify (checks every hash chain of the audit topic; exits non-zero
        at the first broken link)."""
        if action != "verify":
            raise self.UsageError(f"unknown action {action!r}: use verify")
        try:
            self.say(summary(verify_topic(get_settings())))
        except BrokenAuditError as error:
            fail(self.ctx.command_path, str(error))
