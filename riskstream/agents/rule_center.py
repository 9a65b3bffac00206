"""The rule center: the rules in force, hot-reloaded from the compacted ``risk.rules`` topic.

In force = the shipped pack, overlaid by the topic (key = rule id, value = a rule
document, tombstone = delete). Every worker reads the whole topic itself, without a
consumer group, so every worker applies every change. A document that fails validation,
or that changes a rule without raising its version, is refused: the previous version
stays in force and the refusal is recorded (console, log, dead-letter topic).

Revoking a detection rule (deleting it, or a version that is not active) withdraws its
judgement: its signals already published, and the penalties (``freeze`` ...) they carry,
stop counting (:meth:`RuleCenter.counts`), however long their TTL.

When approval is required (``RISKSTREAM_RULES_APPROVAL=required``), a record counts only
with an approval by a second admin (``streams/rule_approval.py``); one without is refused
like an invalid document.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from riskstream.agents.cep.compiler import RuleError, RuleSet
from riskstream.agents.live_rules import check_ruleset
from riskstream.agents.score_rules import CompiledScoreRule, compile_score_rule
from riskstream.rules.loader import AnyRuleDoc, parse_any
from riskstream.streams.bounds import MAX_KEY_GROUPS, MAX_RULES
from riskstream.streams.follow import follow_topic
from riskstream.streams.freshness import Freshness, TopicFreshness
from riskstream.streams.rule_approval import approval_refusal
from riskstream.streams.rule_model import RuleDoc
from riskstream.streams.rule_suspension import SuspensionError, parse_suspension
from riskstream.streams.scoring_model import ScoreRuleDoc

log = logging.getLogger(__name__)
MAX_SUSPENDED = 4 * MAX_RULES
SUSPENSIONS_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class Refusal:
    rule_id: str
    offset: int
    error: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "offset": self.offset, "error": self.error, "at": self.at}


def encode_rule(doc: AnyRuleDoc) -> bytes:
    return orjson.dumps(doc.model_dump(mode="json", exclude_defaults=False))


class RuleCenter:
    """Holds the rules in force, detection and scoring, and applies changes to them."""

    def __init__(
        self,
        base: list[RuleDoc],
        scoring: list[ScoreRuleDoc] | None = None,
        *,
        approval_required: bool = False,
    ) -> None:
        self.approval_required = approval_required
        self.ruleset = RuleSet.of(base)
        self.score_rules: dict[str, CompiledScoreRule] = {
            doc.id: compile_score_rule(doc) for doc in scoring or []
        }
        self.sources: dict[str, str] = dict.fromkeys(
            [doc.id for doc in base] + list(self.score_rules), "pack"
        )
        self.refusals: deque[Refusal] = deque(maxlen=100)
        # Rule id -> the lowest version whose signals still count: a revocation raises it
        # past every version published before it.
        self.revoked: dict[str, int] = {}
        # Rule id -> (the latest version suspended for its time, here or on another
        # worker, ``risk.rule-suspensions``; why): that version runs disabled.
        self.suspended: dict[str, tuple[int, str]] = {}
        self.changes = 0
        self.ready = asyncio.Event()
        self._version: tuple[tuple[int, int, int], str] | None = None

    @property
    def version(self) -> str:
        """Detection and scoring rules in force, as one short digest."""
        # Asked on every score request; derived again only when the rules changed.
        current = (self.changes, id(self.ruleset), id(self.score_rules))
        if self._version is None or self._version[0] != current:
            scoring = sorted(
                f"{rule.doc.id}@{rule.doc.version}:{rule.doc.mode}"
                for rule in self.score_rules.values()
            )
            parts = [self.ruleset.version, *scoring]
            digest = hashlib.blake2b("|".join(parts).encode(), digest_size=6).hexdigest()
            self._version = (current, digest)
        return self._version[1]

    def count(self) -> int:
        """Detection and scoring rules in force."""
        return len(self.ruleset.rules) + len(self.score_rules)

    def doc(self, rule_id: str) -> AnyRuleDoc | None:
        if rule_id in self.ruleset.rules:
            return self.ruleset.rules[rule_id].doc
        score_rule = self.score_rules.get(rule_id)
        return score_rule.doc if score_rule else None

    def apply(
        self,
        key: bytes | None,
        value: bytes | None,
        offset: int = -1,
        headers: Iterable[tuple[str, bytes | None]] | None = None,
    ) -> Refusal | None:
        """Apply one record of the rules topic; returns the refusal, if refused."""
        rule_id = key.decode(errors="replace") if key else ""
        try:
            if not rule_id:
                raise RuleError("a rule record needs the rule id as its key")
            if self.approval_required:
                unapproved = approval_refusal(rule_id, value, headers)
                if unapproved is not None:
                    raise RuleError(unapproved)
            if value is None:
                deleted = self.ruleset.rules.get(rule_id)
                if deleted is not None:
                    self._revoke(rule_id, deleted.doc.version + 1)
                self.ruleset = self.ruleset.without(rule_id)
                self.score_rules.pop(rule_id, None)
                self.sources.pop(rule_id, None)
                self.changes += 1
                log.info("rule %s deleted (offset %s)", rule_id, offset)
                return None
            try:
                data = orjson.loads(value)
            except orjson.JSONDecodeError as error:
                raise RuleError(f"rule {rule_id}: not JSON: {error}") from None
            doc = parse_any(data, f"rules topic offset {offset}")
            if doc.id != rule_id:
                raise RuleError(f"record key {rule_id!r} differs from the rule id {doc.id!r}")
            self._check_version(doc)
            if self.doc(doc.id) is None and self.count() >= MAX_RULES:
                raise RuleError(f"rule {doc.id}: {MAX_RULES} rules are in force, the most allowed")
            if isinstance(doc, ScoreRuleDoc):
                self.score_rules = {**self.score_rules, doc.id: compile_score_rule(doc)}
            else:
                ruleset = self.ruleset.with_doc(doc)
                reason = check_ruleset(ruleset)
                if reason is not None:
                    raise RuleError(f"rule {doc.id}: the core cannot run it: {reason}")
                groups = len(ruleset.key_groups)
                if groups > MAX_KEY_GROUPS and groups > len(self.ruleset.key_groups):
                    raise RuleError(
                        f"rule {doc.id}: key {doc.key!r} would make {groups} key groups, "
                        f"the most allowed is {MAX_KEY_GROUPS} (each costs every event "
                        "another entity record)"
                    )
                self._follow_revocations(doc)
                self.ruleset = ruleset
            self.sources[doc.id] = "topic"
            self.changes += 1
            log.info(
                "rule %s v%s in force, mode %s (offset %s)", doc.id, doc.version, doc.mode, offset
            )
            version, why = self.suspended.get(doc.id, (0, ""))
            if version == doc.version and doc.mode != "disabled":
                self._disable(doc.id, doc.version, why, offset)
            return None
        except RuleError as error:
            return self._refuse(rule_id, offset, str(error))
        # A record is written by whoever may write the topic: whatever it makes the
        # validators or the compiler raise is that record's refusal, never the worker's end.
        except Exception as error:
            return self._refuse(
                rule_id, offset, f"rule {rule_id}: cannot be applied: {type(error).__name__}"
            )

    def _refuse(self, rule_id: str, offset: int, error: str) -> Refusal:
        refusal = Refusal(rule_id[:200], offset, error, time.time())
        self.refusals.append(refusal)
        log.error("rule refused, previous version stays in force: %s", error)
        return refusal

    def suspend_slow(
        self, slow: list[tuple[str, float]], budget_ms: float
    ) -> list[tuple[str, int, Literal["detect", "score"], float]]:
        """Switch each rule that took too long to evaluate (rule id, milliseconds) to
        ``disabled`` on this worker, until a new version of it arrives. Returns (rule id,
        version, kind, milliseconds) of each rule version it suspended now: those this
        worker tells the others about (a version already suspended is not told again)."""
        suspended: list[tuple[str, int, Literal["detect", "score"], float]] = []
        for rule_id, took_ms in slow:
            doc = self.doc(rule_id)
            if doc is None or doc.mode == "disabled":
                continue
            reason = f"one evaluation took {took_ms:.0f} ms, the budget is {budget_ms:.0f} ms"
            self._disable(rule_id, doc.version, reason)
            kind: Literal["detect", "score"] = (
                "score" if isinstance(doc, ScoreRuleDoc) else "detect"
            )
            suspended.append((rule_id, doc.version, kind, took_ms))
        return suspended

    def apply_suspension(self, key: bytes | None, value: bytes | None, offset: int = -1) -> None:
        """Apply one record of the suspensions topic: the rule version it names is
        disabled, now if it is in force, or when it arrives. A record that is no
        suspension is refused (SuspensionError); it can never enable or change a rule."""
        suspension = parse_suspension(key, value)
        rule_id, version = suspension.rule_id, suspension.version
        known = self.suspended.get(rule_id, (0, ""))[0]
        doc = self.doc(rule_id)
        in_force = doc is not None and doc.version == version
        if version == known or (version < known and not in_force):
            # Told before (by another worker too), or about a version gone. One naming a
            # later version does not stop the one in force from being suspended.
            return
        if rule_id not in self.suspended and len(self.suspended) >= MAX_SUSPENDED:
            # Remembered for rules not in force yet (the rules topic is read alongside);
            # bounded, whatever the topic holds.
            if self.doc(rule_id) is None:
                raise SuspensionError(f"{MAX_SUSPENDED} suspensions are remembered, the most")
            # A rule in force goes first: room is made among those that are not.
            self.suspended = {r: v for r, v in self.suspended.items() if self.doc(r)}
        self.suspended[rule_id] = (version, suspension.reason)
        if doc is not None and in_force and doc.mode != "disabled":
            self._disable(rule_id, version, suspension.reason, offset)

    def _disable(self, rule_id: str, version: int, reason: str, offset: int = -1) -> None:
        """Rule ``rule_id`` (in force at ``version``) switched to disabled, and why."""
        self.suspended[rule_id] = (version, reason)
        if rule_id in self.score_rules:
            rule = self.score_rules[rule_id]
            disabled = rule.doc.model_copy(update={"mode": "disabled"})
            self.score_rules = {
                **self.score_rules,
                rule_id: CompiledScoreRule(disabled, rule.when),
            }
        else:
            detect = self.ruleset.rules[rule_id].doc
            self._revoke(rule_id, version + 1)
            self.ruleset = self.ruleset.with_doc(detect.model_copy(update={"mode": "disabled"}))
        self.sources[rule_id] = "suspended"
        self.changes += 1
        message = f"rule {rule_id} v{version} disabled: {reason}"
        self.refusals.append(Refusal(rule_id, offset, message, time.time()))
        log.error("%s; push a new version to enable it again", message)

    def counts(self, rule_id: str, rule_version: int) -> bool:
        """Whether a signal of this rule version still counts (score and penalty): its
        rule is in force and active, and it was not revoked since that version."""
        rule = self.ruleset.rules.get(rule_id)
        if rule is None or rule.doc.mode != "active":
            return False
        return rule_version >= self.revoked.get(rule_id, 0)

    def _follow_revocations(self, doc: RuleDoc) -> None:
        if doc.mode != "active":
            self._revoke(doc.id, doc.version)
        elif doc.id not in self.ruleset.rules and doc.version < self.revoked.get(doc.id, 0):
            # Created again after a deletion, at a lower version: its own signals count.
            self.revoked[doc.id] = doc.version

    def _revoke(self, rule_id: str, below_version: int) -> None:
        if below_version <= self.revoked.get(rule_id, 0):
            return
        self.revoked[rule_id] = below_version
        log.info(
            "rule %s revoked: its signals below v%s and their penalties are lifted",
            rule_id,
            below_version,
        )

    def _check_version(self, doc: AnyRuleDoc) -> None:
        old = self.doc(doc.id)
        if old is None:
            return
        if type(old) is not type(doc):
            raise RuleError(f"rule {doc.id}: cannot turn a {type(old).__name__} into another kind")
        if doc.version < old.version:
            raise RuleError(
                f"rule {doc.id}: version {doc.version} is older than v{old.version} in force"
            )
        if doc.version == old.version and doc != old:
            raise RuleError(f"rule {doc.id}: v{doc.version} changed without a new version number")

    def summary(self) -> list[dict[str, Any]]:
        rows = [
            {
                "id": rule.id,
                "kind": "detect",
                "version": rule.doc.version,
                "mode": rule.doc.mode,
                "pattern": rule.doc.signal_pattern,
                "entity": rule.doc.entity,
                "effect": rule.doc.effect,
                "key": rule.doc.key,
                "source": self.sources.get(rule.id, "?"),
                "description": rule.doc.description,
            }
            for rule in self.ruleset.rules.values()
        ]
        rows += [
            {
                "id": rule.doc.id,
                "kind": "score",
                "version": rule.doc.version,
                "mode": rule.doc.mode,
                "code": rule.doc.code,
                "points": rule.doc.points,
                "entity": "transaction",
                "source": self.sources.get(rule.doc.id, "?"),
                "description": rule.doc.description,
            }
            for rule in self.score_rules.values()
        ]
        return sorted(rows, key=lambda row: str(row["id"]))


async def follow_rules_topic(
    center: RuleCenter,
    connection: Mapping[str, Any],
    topic: str,
    stop: asyncio.Event | None = None,
    suspensions: str | None = None,
    freshness: Freshness | None = None,
) -> None:
    """Keep ``center`` in step with the rules topic, and the ``suspensions`` topic if
    given; ``center.ready`` once caught up with both. ``freshness``: told how far
    behind each is."""

    def tracked(name: str) -> TopicFreshness | None:
        return freshness.topic(name) if freshness is not None else None

    def apply(record: Any) -> None:
        center.apply(record.key, record.value, record.offset, record.headers)

    def suspend(record: Any) -> None:
        center.apply_suspension(record.key, record.value, record.offset)

    rules_ready, suspensions_ready = asyncio.Event(), asyncio.Event()
    if suspensions is None:
        suspensions_ready.set()

    async def both_ready() -> None:
        await rules_ready.wait()
        try:
            await asyncio.wait_for(suspensions_ready.wait(), SUSPENSIONS_WAIT_S)
        except TimeoutError:
            # A worker must not stay deaf for a topic it cannot see (not created yet, or
            # no ACL for it after an upgrade): it works on, suspending slow rules itself.
            log.error(
                "%s not read within %.0f s: rule versions suspended by other workers may "
                "run here until it is (run `riskstream topics create` and `acls apply`)",
                suspensions,
                SUSPENSIONS_WAIT_S,
            )
        center.ready.set()

    followers = [
        follow_topic(connection, topic, apply, rules_ready, stop=stop, freshness=tracked(topic)),
        both_ready(),
    ]
    if suspensions is not None:
        followers.append(
            follow_topic(
                connection,
                suspensions,
                suspend,
                suspensions_ready,
                stop=stop,
                freshness=tracked(suspensions),
            )
        )
    await asyncio.gather(*followers)
