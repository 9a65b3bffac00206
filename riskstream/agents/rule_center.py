"""The rule center: the rules in force, hot-reloaded from the compacted ``risk.rules`` topic.

In force = the shipped pack, overlaid by the topic (key = rule id, value = a rule
document, tombstone = delete). Every worker reads the whole topic itself, without a
consumer group, so every worker applies every change. A document that fails validation,
or that changes a rule without raising its version, is refused: the previous version
stays in force and the refusal is recorded (console, log, dead-letter topic).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from riskstream.agents.cep.compiler import RuleError, RuleSet
from riskstream.rules.loader import parse_rule
from riskstream.streams.rule_model import RuleDoc

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refusal:
    rule_id: str
    offset: int
    error: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "offset": self.offset, "error": self.error, "at": self.at}


def encode_rule(doc: RuleDoc) -> bytes:
    return orjson.dumps(doc.model_dump(mode="json", exclude_defaults=False))


class RuleCenter:
    """Holds the :class:`RuleSet` in force and applies changes to it."""

    def __init__(self, base: list[RuleDoc]) -> None:
        self.base = {doc.id: doc for doc in base}
        self.ruleset = RuleSet.of(base)
        self.sources: dict[str, str] = dict.fromkeys(self.base, "pack")
        self.refusals: deque[Refusal] = deque(maxlen=100)
        self.changes = 0
        self.ready = asyncio.Event()

    def apply(self, key: bytes | None, value: bytes | None, offset: int = -1) -> Refusal | None:
        """Apply one record of the rules topic; returns the refusal, if refused."""
        rule_id = key.decode(errors="replace") if key else ""
        try:
            if not rule_id:
                raise RuleError("a rule record needs the rule id as its key")
            if value is None:
                self.ruleset = self.ruleset.without(rule_id)
                self.sources.pop(rule_id, None)
                self.changes += 1
                log.info("rule %s deleted (offset %s)", rule_id, offset)
                return None
            try:
                data = orjson.loads(value)
            except orjson.JSONDecodeError as error:
                raise RuleError(f"rule {rule_id}: not JSON: {error}") from None
            doc = parse_rule(data, f"rules topic offset {offset}")
            if doc.id != rule_id:
                raise RuleError(f"record key {rule_id!r} differs from the rule id {doc.id!r}")
            self._check_version(doc)
            self.ruleset = self.ruleset.with_doc(doc)
            self.sources[doc.id] = "topic"
            self.changes += 1
            log.info(
                "rule %s v%s in force, mode %s (offset %s)", doc.id, doc.version, doc.mode, offset
            )
            return None
        except RuleError as error:
            refusal = Refusal(rule_id, offset, str(error), time.time())
            self.refusals.append(refusal)
            log.error("rule refused, previous version stays in force: %s", error)
            return refusal

    def _check_version(self, doc: RuleDoc) -> None:
        current = self.ruleset.rules.get(doc.id)
        if current is None:
            return
        old = current.doc
        if doc.version < old.version:
            raise RuleError(
                f"rule {doc.id}: version {doc.version} is older than v{old.version} in force"
            )
        if doc.version == old.version and doc != old:
            raise RuleError(f"rule {doc.id}: v{doc.version} changed without a new version number")

    def summary(self) -> list[dict[str, Any]]:
        return [
            {
                "id": rule.id,
                "version": rule.doc.version,
                "mode": rule.doc.mode,
                "pattern": rule.doc.signal_pattern,
                "entity": rule.doc.entity,
                "key": rule.doc.key,
                "source": self.sources.get(rule.id, "?"),
                "description": rule.doc.description,
            }
            for rule in sorted(self.ruleset.rules.values(), key=lambda item: item.id)
        ]


async def follow_rules_topic(
    center: RuleCenter, bootstrap: str, topic: str, stop: asyncio.Event | None = None
) -> None:
    """Read the rules topic from the beginning, then follow it; ``center.ready`` is set
    once everything written before the start has been applied. Connection trouble is
    logged and retried: the rules in force stay as they are meanwhile."""
    while stop is None or not stop.is_set():
        try:
            await _follow(center, bootstrap, topic, stop)
        except KafkaError as error:
            log.error("reading the rules topic %s failed, retrying: %r", topic, error)
            await asyncio.sleep(2)


async def _follow(
    center: RuleCenter, bootstrap: str, topic: str, stop: asyncio.Event | None
) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        while topic not in await consumer.topics():
            log.warning("rules topic %s not found yet", topic)
            await asyncio.sleep(1)
        # One partition by design (see the topic catalog): one ordered history of changes.
        assigned = [TopicPartition(topic, 0)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        while stop is None or not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    center.apply(record.key, record.value, record.offset)
            if not center.ready.is_set():
                positions = {tp: await consumer.position(tp) for tp in assigned}
                if all(positions[tp] >= ends[tp] for tp in assigned):
                    center.ready.set()
                    log.info(
                        "rules loaded: %d in force, version %s",
                        len(center.ruleset.rules),
                        center.ruleset.version,
                    )
    finally:
        await consumer.stop()
