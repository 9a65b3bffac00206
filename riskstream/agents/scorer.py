"""The real-time scorer, and the penalty center's write side.

Profiles (active signals), penalties, verdicts, models, long-horizon profiles and past
decisions are replicas read from their topics (see ``tables/books.py``), so a score is
computed from memory. The account's own rule state (and so its daily total) comes from
the host (``agents/scorer_host.py``): in a worker, the account-state table (requests are
forwarded to the account's owner, ``agents/score_routing.py``); in a scorer process,
a replica of that table's changelog, for every account.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from riskstream.agents.decision_memory import DecisionMemory, decision_partition, same_request
from riskstream.agents.live_rules import LiveRules, Snapshot, projection
from riskstream.agents.model_features import FEATURES, feature_row
from riskstream.agents.model_serving import ServedModels, model_book
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.score_request import make_penalty, request_digest
from riskstream.agents.scorer_host import ScorerHost
from riskstream.agents.scoring import cannot_judge, gather, policy_from, score
from riskstream.agents.worker_audit import WorkerAudit
from riskstream.streams.bounds import MAX_MODEL_RECORD_BYTES
from riskstream.streams.card_numbers import mask_text
from riskstream.streams.codec import dumps, loads
from riskstream.streams.events import Transaction, to_epoch_ms
from riskstream.streams.follow import follow_partitions, follow_topic, follower_options
from riskstream.streams.freshness import Freshness
from riskstream.streams.outputs import Decision
from riskstream.streams.redaction import tokeniser_for
from riskstream.streams.scoring_model import AuditRecord, Penalty, PenaltyRequest
from riskstream.streams.settings import Settings
from riskstream.streams.topics import MODEL_RECORD_HEADROOM
from riskstream.tables.books import PenaltyBook, ProfileBook
from riskstream.tables.history_book import HistoryBook
from riskstream.tables.rule_quality import RuleQuality

log = logging.getLogger(__name__)
DAY_MS = 86_400_000
MODELS_WAIT_S = 30.0
# The causes of a -1: the process has not read what it needs yet, or it has fallen
# further behind its topics than RISKSTREAM_SCORER_MAX_LAG_S.
RECOVERING = "RECOVERING"
STALE = "STALE"


class Scorer:
    def __init__(
        self,
        host: ScorerHost,
        settings: Settings,
        center: RuleCenter,
        audit: WorkerAudit | None = None,
        on_slow: Callable[[list[tuple[str, float]], float], object] | None = None,
        freshness: Freshness | None = None,
    ) -> None:
        names = settings.topics
        self.host = host
        self.settings = settings
        self.center = center
        self.tokeniser = tokeniser_for(settings)
        # Its own engine (not the pipeline's): a what-if decodes the stored record anew
        # and leaves it as it is.
        self.rules = LiveRules(0)
        self.profiles = ProfileBook()
        # Per-rule precision and volume: the signals judged by the verdicts kept above.
        self.quality = RuleQuality(
            self.profiles.verdict,
            lookback_ms=int(settings.rule_quality_lookback_days * DAY_MS),
            keep_per_rule=settings.rule_quality_keep_per_rule,
        )
        self.penalties = PenaltyBook()
        # The learned models (risk.models): the active one decides with the rules.
        self.models = ServedModels(model_book(FEATURES), FEATURES, feature_row)
        self.models_ready = asyncio.Event()
        # Long-horizon profiles (tables/history_book.py): every worker reads the topic.
        self.history = HistoryBook()
        self.history_ready = asyncio.Event()
        self.profiles_ready = asyncio.Event()
        self.penalties_ready = asyncio.Event()
        self.decisions_ready = asyncio.Event()
        self.verdicts_ready = asyncio.Event()
        # Ready events of the host's own (a scorer's account-state replica).
        self.also_ready: list[asyncio.Event] = []
        self.policy = policy_from(settings)
        # A scoring rule too slow to run is skipped, and disabled (everywhere) by this.
        self.on_slow = on_slow or center.suspend_slow
        # Penalties are written where an audit trail is kept (a worker); None: read only.
        self.audit = audit
        # How far behind the followed topics this process is (None: not watched, and
        # never STALE: a worker's own table is not a follower).
        self.freshness = freshness
        self.memory = DecisionMemory(settings.decision_memory_max)
        self.scored = 0
        self.unconfirmed = 0
        # Seconds spent judging, publishing and waiting for the read-back, in all
        # (/stats/ of a scorer process: where a request's time goes).
        self.spent_s = dict.fromkeys(("judge", "publish", "confirm"), 0.0)

        lookback_ms = int(settings.profile_lookback_days * DAY_MS)
        # Held to a freshness bound (a scorer process), the topics whose records change
        # answers at once are read a partition per consumer (streams/follow.py).
        apart = freshness is not None
        self._follow(
            names.signals, self.apply_signal_record, self.profiles_ready, lookback_ms,
            apart=apart,
        )  # fmt: skip
        # Legit verdicts clear the alerts their transactions raised (books.ProfileBook).
        self._follow(names.feedback, self.apply_feedback_record, self.verdicts_ready, lookback_ms)
        self._follow(names.penalties, self.penalties.apply_record, self.penalties_ready)
        # A model record is a whole booster, larger than a consumer fetches by default.
        models_read = asyncio.Event()
        self._follow(
            names.models, self.models.book.apply_record, models_read,
            fetch_bytes=MAX_MODEL_RECORD_BYTES + MODEL_RECORD_HEADROOM,
        )  # fmt: skip

        async def wait_for_models() -> None:
            try:
                await asyncio.wait_for(models_read.wait(), MODELS_WAIT_S)
            except TimeoutError:
                # A worker must not stay deaf for a topic it cannot see (not created yet,
                # or no ACL for it after an upgrade): the rules decide alone until it is.
                log.error(
                    "%s not read within %.0f s: scoring without a learned model until it "
                    "is (run `riskstream topics create` and `acls apply`)",
                    names.models, MODELS_WAIT_S,
                )  # fmt: skip
            self.models_ready.set()

        host.start("wait_for_models", wait_for_models)
        self._follow(names.profiles, self.history.apply_record, self.history_ready)
        # A retry after a restart must get the answer the client may already have acted
        # on, and the decisions topic must not carry two for one event.
        # A scorer waits on it for every answer: one consumer for the whole topic, whose
        # fetch comes back within the read-back wait, reads a busy topic a few records a
        # fetch (a consumer per partition fetched once a record, and cost each answer
        # ~400 us of CPU; docs/adr/0009-scorer-process.md).
        self._follow(
            names.decisions, self.memory.apply_record, self.decisions_ready,
            int(settings.decision_memory_hours * 3600 * 1000),
            tail=max(1, settings.decision_memory_max // settings.partitions),
            fetch_wait_ms=settings.scorer_readback_wait_ms if apart else None,
        )  # fmt: skip

    def _follow(
        self,
        topic: str,
        apply: Callable[[Any], None],
        ready: asyncio.Event,
        lookback_ms: int | None = None,
        tail: int | None = None,
        fetch_bytes: int | None = None,
        apart: bool = False,
        fetch_wait_ms: int | None = None,
    ) -> None:
        """Read ``topic`` (from ``lookback_ms`` back, else all of it) in a task of the
        host; ``fetch_bytes``: records that large are fetched whole; ``apart``: each
        partition by a consumer of its own (``streams/follow.follow_partitions``);
        ``fetch_wait_ms``: how long the broker may hold a fetch (else the followers')."""
        connection = follower_options(self.settings)
        if fetch_bytes is not None:
            connection |= {"max_partition_fetch_bytes": fetch_bytes, "fetch_max_bytes": fetch_bytes}
        if fetch_wait_ms is not None:
            connection |= {"fetch_max_wait_ms": fetch_wait_ms}
        tracked = self.freshness.topic(topic) if self.freshness is not None else None

        def since() -> int:
            return int(time.time() * 1000) - (lookback_ms or 0)

        async def follow() -> None:
            await (follow_partitions if apart else follow_topic)(
                connection, topic, apply, ready,
                since_ms=since if lookback_ms is not None else None, tail=tail,
                freshness=tracked,
            )  # fmt: skip

        self.host.start(f"follow_{topic}", follow)

    def apply_signal_record(self, record: Any) -> None:
        """A record of the signals topic: into the profiles, and counted for its rule."""
        if not record.value:
            return
        body = loads(record.value)
        self.profiles.apply_signal(body)  # raises on a record that is no signal
        self.quality.apply_signal(body)

    def apply_feedback_record(self, record: Any) -> None:
        """A record of the feedback topic: a verdict kept, and the alerts it judges."""
        feedback = self.profiles.apply_feedback_record(record)
        if feedback is not None:
            self.quality.reconsider(feedback.target_event_id)

    def ready(self) -> bool:
        return (
            self.center.ready.is_set()
            and self.profiles_ready.is_set()
            and self.penalties_ready.is_set()
            and self.models_ready.is_set()
            and self.decisions_ready.is_set()
            and self.verdicts_ready.is_set()
            and self.history_ready.is_set()
            and all(event.is_set() for event in self.also_ready)
        )

    def stale(self) -> tuple[str, float] | None:
        """(the topic furthest behind, its age in seconds) when that is over the bound."""
        if self.freshness is None:
            return None
        topic, age_s = self.freshness.stalest()
        if topic is None or age_s <= self.settings.scorer_max_lag_s:
            return None
        return topic, age_s

    def why_not_now(self, event_id: str) -> Decision | None:
        """-1 with its cause when this process cannot judge now; None when it can."""
        if not self.ready():
            return cannot_judge(
                event_id, RECOVERING,
                "still loading rules, models, signals, verdicts, penalties, profiles, "
                "past decisions or account state",
                self.policy,
            )  # fmt: skip
        behind = self.stale()
        if behind is not None:
            topic, age_s = behind
            return cannot_judge(
                event_id, STALE,
                f"{topic} was last read to its end {age_s:.1f} s ago, more than "
                f"{self.settings.scorer_max_lag_s:g} s",
                self.policy,
            )  # fmt: skip
        return None

    def spent_today(self, account_id: str, now: datetime) -> Decimal:
        snapshot = self.rules.snapshot(self.center.ruleset)
        record = self._account_record(snapshot, account_id)
        return Decimal(snapshot.engine.spent_on(record, to_epoch_ms(now)))

    def _account_record(self, snapshot: Snapshot, account_id: str) -> bytes | None:
        stored = self.host.account_record(account_id)
        try:
            return snapshot.current(0, stored)
        except ValueError as error:
            log.warning("account %s: unreadable state record: %s", account_id, error)
            return None

    def judge(self, transaction: Transaction, digest: str) -> Decision:
        """The decision on what this process holds now; nothing remembered or sent."""
        now = datetime.now(UTC)
        # One read serves both: the day's total, and the rule state the transaction is
        # tried on (never written back). Signals published so far only tell what earlier
        # events did; the transaction that completes a burst, a takeover or a cash-out
        # would otherwise be judged without the very pattern it completes.
        snapshot = self.rules.snapshot(self.center.ruleset)
        record = self._account_record(snapshot, transaction.account_id)
        spent = Decimal(snapshot.engine.spent_on(record, to_epoch_ms(now)))
        seen_as = projection(transaction)[1]
        what_if = snapshot.engine.what_if(record, transaction.account_id, seen_as)
        own = [snapshot.signal(item) for item in what_if]
        evidence = gather(
            transaction, self.profiles, self.penalties, now, spent, own, self.center.counts,
            history=self.history,
        )  # fmt: skip
        evidence.projection = seen_as
        return score(
            evidence, list(self.center.score_rules.values()), self.policy, self.center.version,
            budget_ms=self.settings.rule_time_budget_ms, on_slow=self.on_slow, model=self.models,
        ).model_copy(update={"request_sha256": digest})  # fmt: skip

    async def decide(self, transaction: Transaction) -> Decision:
        """The decision for a transaction; the same event id always gets the same one, and
        with another body an IdempotencyConflictError."""
        event_id = transaction.event_id
        digest = request_digest(transaction)
        remembered = self.memory.get(event_id)
        if remembered is not None:
            return same_request(remembered, event_id, digest)
        confirms = self.host.confirms_decisions
        # A request here already judging this event id: its answer is this one's too.
        pending = self.memory.pending(event_id) if confirms else None
        if pending is None:
            refused = self.why_not_now(event_id)
            if refused is not None:
                return refused
            if not confirms:
                return await self._judge_and_publish(transaction, digest, remember=True)
            pending = self.memory.expect(event_id)
            try:
                await self._judge_and_publish(transaction, digest, remember=False)
            except BaseException:
                self.memory.give_up(event_id, pending)  # no later request waits on it
                raise
        # Another instance may have judged the same event id meanwhile: the first
        # record of it on the decisions topic is everyone's answer.
        began = time.perf_counter()
        confirmed = await self.memory.confirm(pending, self.settings.scorer_confirm_timeout_s)
        self.spent_s["confirm"] += time.perf_counter() - began
        if confirmed is None:
            self.memory.give_up(event_id, pending)
            self.unconfirmed += 1
            return cannot_judge(
                event_id, STALE,
                "the decision was not read back from the decisions topic in "
                f"{self.settings.scorer_confirm_timeout_s:g} s",
                self.policy,
            )  # fmt: skip
        return same_request(confirmed, event_id, digest)

    async def _judge_and_publish(
        self, transaction: Transaction, digest: str, *, remember: bool
    ) -> Decision:
        began = time.perf_counter()
        decision = self.judge(transaction, digest)
        judged = time.perf_counter()
        self.spent_s["judge"] += judged - began
        if remember:  # before the await: a retry meanwhile gets it
            self.memory.remember(decision)
        self.scored += 1
        await self._publish(decision, transaction)
        self.spent_s["publish"] += time.perf_counter() - judged
        return decision

    async def _publish(self, decision: Decision, transaction: Transaction) -> None:
        names = self.settings.topics
        account = transaction.account_id.encode()
        # On its event id's partition, whatever its key: every record of one event id
        # in one order (agents/decision_memory.py).
        partition = decision_partition(
            transaction.event_id, await self.host.partitions(names.decisions)
        )
        # Where it is confirmed, reading it back is the proof it was stored (a consumer
        # sees only what the broker has acknowledged): the two waits run as one.
        value = dumps(decision)
        if self.host.confirms_decisions:
            self.memory.sending(value, decision)
        await self.host.send(
            names.decisions, account, value, partition, acked=not self.host.confirms_decisions
        )
        if self.settings.score_forward_transactions:
            await self.host.send(names.transactions, account, dumps(transaction))

    async def add_penalty(self, request: PenaltyRequest, operator: str) -> Penalty:
        # A card is penalised by its token, the id the state and the signals know it by.
        request = request.model_copy(
            update={"entity_id": self.tokeniser.lookup_id(request.entity_id),
                    "reason": mask_text(request.reason)}
        )  # fmt: skip
        penalty = make_penalty(request, operator, datetime.now(UTC))
        # The audit line is stored first: a penalty never exists without its line.
        await self._audit("add", operator, penalty.penalty_id, request.reason, penalty)
        await self.host.send(
            self.settings.topics.penalties, penalty.penalty_id.encode(), dumps(penalty)
        )
        self.penalties.put(penalty)  # read your own write at once
        return penalty

    async def remove_penalty(self, penalty_id: str, operator: str, reason: str) -> Penalty:
        current = self.penalties.get(penalty_id)
        if current is None:
            raise KeyError(penalty_id)
        await self._audit("remove", operator, penalty_id, mask_text(reason), current)
        await self.host.send(self.settings.topics.penalties, penalty_id.encode(), None)
        self.penalties.remove(penalty_id)
        return current

    async def _audit(
        self, action: str, actor: str, penalty_id: str, reason: str, penalty: Penalty
    ) -> None:
        record = AuditRecord.model_validate({
            "at": datetime.now(UTC), "actor": actor, "action": action,
            "penalty_id": penalty_id, "reason": reason, "penalty": penalty,
        })  # fmt: skip
        if self.audit is None:
            raise RuntimeError("penalties are written by the workers, which keep the audit trail")
        await self.audit.store(record, penalty_id.encode())

    def profile(self, entity_type: str, entity_id: str) -> dict[str, Any]:
        # A card number asked for is looked up, and answered, by its token.
        entity_id = self.tokeniser.lookup_id(entity_id)
        now = datetime.now(UTC)
        body: dict[str, Any] = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "signals": [
                signal.as_dict()
                for signal in self.profiles.active(
                    entity_type, entity_id, int(now.timestamp() * 1000)
                )
                if self.center.counts(signal.rule_id, signal.rule_version)
            ],
            "penalties": [
                penalty.model_dump(mode="json")
                for penalty in self.penalties.for_entity(entity_type, entity_id, now)
            ],
        }
        if entity_type == "account":
            body["spent_today"] = str(self.spent_today(entity_id, now))
        # The long-horizon profile, as of the build that published it (absent: unknown).
        as_of_ms = self.history.as_of(entity_type, entity_id)
        if as_of_ms is not None:
            body["history"] = {
                "as_of": datetime.fromtimestamp(as_of_ms / 1000, UTC).isoformat(),
                **self.history.lookup(entity_type, entity_id),
            }
        return body
