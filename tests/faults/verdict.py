"""The published signals judged against replay's: what is missing, extra, changed, repeated.

``assert_same_signals`` (tests/integration/helpers.py) stops at the first difference;
a fault scenario wants them all counted and described, to report what a fault costs.
The rule is the same, and stricter on content: every replay signal published with
replay's id and content (byte for byte once decoded), nothing else, and a signal id
published again only as a byte-identical record, and only where a crash allows it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from riskstream.streams.codec import loads
from riskstream.streams.kafka_io import Record
from tests.faults.stream import FaultStream

Body = dict[str, object]


class NotReplaysSignalsError(AssertionError):
    """The published signals are not replay's."""


@dataclass
class Verdict:
    expected: int
    published: dict[str, Body] = field(default_factory=dict)  # first record per id
    missing: list[Body] = field(default_factory=list)  # replay's, never published
    unexpected: list[Body] = field(default_factory=list)  # published, not replay's
    changed: list[tuple[Body, Body]] = field(default_factory=list)  # (replay, live), same id
    republished: int = 0  # byte-identical records of an id published before
    conflicting: list[str] = field(default_factory=list)  # repeats with other bytes
    wrong_keys: list[str] = field(default_factory=list)  # record key is not the entity

    @property
    def differing_ids(self) -> int:
        return len(self.missing) + len(self.unexpected) + len(self.changed)

    def exact(self, *, republish_allowed: bool) -> bool:
        return (
            self.differing_ids == 0
            and not self.conflicting
            and not self.wrong_keys
            and (republish_allowed or self.republished == 0)
        )


def judge(records: Iterable[Record], expected: dict[str, Body]) -> Verdict:
    verdict = Verdict(expected=len(expected))
    raw_by_id: dict[str, bytes] = {}
    for record in records:
        body = loads(record.value)
        signal_id = str(body["signal_id"])
        if record.key != str(body["entity_id"]).encode():
            verdict.wrong_keys.append(signal_id)
        if signal_id in raw_by_id:
            if record.value == raw_by_id[signal_id]:
                verdict.republished += 1
            else:
                verdict.conflicting.append(signal_id)
            continue
        raw_by_id[signal_id] = record.value
        verdict.published[signal_id] = body
    for signal_id, body in verdict.published.items():
        want = expected.get(signal_id)
        if want is None:
            verdict.unexpected.append(body)
        elif want != body:
            verdict.changed.append((want, body))
    verdict.missing = [body for key, body in expected.items() if key not in verdict.published]
    return verdict


def _where(body: Body) -> tuple[str, str]:
    return str(body["rule_id"]), str(body["entity_id"])


def explain(verdict: Verdict, stream: FaultStream, partitions: int) -> list[str]:
    """What kind of difference each one is, and whether the known cause can explain it.

    The known cause (issue 16 deliverable 1): an entity that several input partitions
    feed (an account's three topics; a device's accounts on several partitions) sees
    their events in the order they are read, not in replay's event-time order. A
    difference on an entity fed by one partition of one topic has another cause, unless
    the scenario itself reorders the stream (a shuffle: deliverable 1 too).
    """
    missing_at = Counter(_where(body) for body in verdict.missing)
    unexpected_at = Counter(_where(body) for body in verdict.unexpected)
    shifted = sum((missing_at & unexpected_at).values())
    lines = [
        f"{len(verdict.missing)} missing, {len(verdict.unexpected)} unexpected "
        f"({shifted} of each: same rule and entity, another window), "
        f"{len(verdict.changed)} with replay's id and other content, "
        f"{verdict.republished} republished, {len(verdict.conflicting)} repeated with "
        f"other bytes, {len(verdict.wrong_keys)} with a wrong key"
    ]
    single_source = [
        body
        for body in [*verdict.missing, *verdict.unexpected, *(live for _, live in verdict.changed)]
        if stream.fed_by_one_source(str(body["entity_id"]), partitions)
    ]
    lines.append(f"differences on entities fed by one input partition: {len(single_source)}")
    for label, bodies in (("missing", verdict.missing), ("unexpected", verdict.unexpected)):
        by_rule = Counter(str(body["rule_id"]) for body in bodies)
        if by_rule:
            lines.append(f"{label} by rule: {dict(sorted(by_rule.items()))}")
    for want, live in verdict.changed[:5]:
        fields = sorted(key for key in want.keys() | live.keys() if want.get(key) != live.get(key))
        lines.append(f"changed {want['signal_id']} ({want['rule_id']}): {', '.join(fields)}")
    for body in single_source[:5]:
        lines.append(
            f"one-source entity: {body['rule_id']} {body['entity_id']} {body['signal_id']}"
        )
    return lines
