"""The real-time scorer on the Faust web server, and the penalty center's write side.

Profiles (active signals) and penalties are replicas on every worker (see
``tables/books.py``), so a score is computed locally from memory. The one piece of state
that lives with the account is today's outgoing total (for daily limits): a request is
forwarded to the worker that owns the account's partition when that is another worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import faust
import orjson
from pydantic import ValidationError

from riskstream.agents.live_rules import LiveRules, Snapshot, projection
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.score_routing import ScoreRouter
from riskstream.agents.scoring import cannot_judge, gather, policy_from, score
from riskstream.agents.validation import describe_validation_error, shown
from riskstream.agents.worker_audit import WorkerAudit, worker_name
from riskstream.streams.card_numbers import mask_text
from riskstream.streams.codec import dumps, loads
from riskstream.streams.events import TRANSACTION_TYPES, Transaction, to_epoch_ms
from riskstream.streams.follow import follow_topic
from riskstream.streams.kafka_security import client_options
from riskstream.streams.outputs import Decision
from riskstream.streams.redaction import Tokeniser, TooDeepError, tokeniser_for
from riskstream.streams.scoring_model import AuditRecord, Penalty, PenaltyRequest
from riskstream.streams.settings import Settings
from riskstream.tables.books import PenaltyBook, ProfileBook
from riskstream.tables.faust_tables import RecordTable
from riskstream.tables.history_book import HistoryBook

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


class IdempotencyConflictError(Exception):
    """The event id was scored before with another request body (answered with 409)."""


class RequestError(ValueError):
    """A bad request: the message says which field and why (answered with 422)."""

    def __init__(self, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []


def make_penalty(request: PenaltyRequest, operator: str, now: datetime) -> Penalty:
    """The entry ``operator`` (who is authenticated, never named by the request) adds."""
    return Penalty(
        entity_type=request.entity_type,
        entity_id=request.entity_id,
        kind=request.kind,
        reason=request.reason,
        source=f"operator:{operator}",
        created_at=now,
        expires_at=now + request.ttl,
        per_transaction_limit=request.per_transaction_limit,
        daily_limit=request.daily_limit,
    )


def request_digest(transaction: Transaction) -> str:
    """SHA-256 of the transaction in canonical form (validated values, sorted keys): the
    same request however its JSON was spaced or ordered."""
    canonical = orjson.dumps(transaction.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def parse_transaction(body: bytes, tokeniser: Tokeniser) -> Transaction:
    """A transaction to score, its sensitive values tokenised (``streams/redaction.py``)
    before anything else reads it, error messages included."""
    try:
        data = orjson.loads(tokeniser.tokenise(body))
    except TooDeepError as error:
        raise RequestError(f"the body is not an event: {error}") from None
    except ValueError:  # not JSON: orjson says why, in its words
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise RequestError(f"the body is not JSON: {error}") from None
        raise RequestError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise RequestError("the body must be a JSON object (a transaction)")
    if data.get("type") not in TRANSACTION_TYPES:
        raise RequestError(
            f"type {shown(data.get('type'))} is not a transaction type",
            [{"field": "type", "message": f"one of {', '.join(sorted(TRANSACTION_TYPES))}"}],
        )
    try:
        return Transaction.model_validate(data)
    except ValidationError as error:
        fields = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
            for item in error.errors(include_url=False)
        ]
        raise RequestError(describe_validation_error(error), fields) from None


class Scorer:
    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        center: RuleCenter,
        accounts: RecordTable,
        audit: WorkerAudit | None = None,
        on_slow: Callable[[list[tuple[str, float]], float], object] | None = None,
    ) -> None:
        names = settings.topics
        self.app = app
        self.settings = settings
        self.center = center
        self.tokeniser = tokeniser_for(settings)
        # The account's rule state (and its daily totals), local here because requests
        # are routed to the account's owner: the transaction is tried on a copy of it.
        self.accounts = accounts
        # Its own engine (not the pipeline's): a what-if decodes the stored record anew
        # and leaves it as it is.
        self.rules = LiveRules(0)
        self.profiles = ProfileBook()
        self.penalties = PenaltyBook()
        # Long-horizon profiles (tables/history_book.py): every worker reads the topic.
        self.history = HistoryBook()
        self.history_ready = asyncio.Event()
        self.profiles_ready = asyncio.Event()
        self.penalties_ready = asyncio.Event()
        self.decisions_ready = asyncio.Event()
        self.verdicts_ready = asyncio.Event()
        self.policy = policy_from(settings)
        self.decisions_topic = app.topic(names.decisions)
        self.transactions_topic = app.topic(names.transactions)
        self.penalties_topic = app.topic(names.penalties)
        # A scoring rule too slow to run is skipped, and disabled (everywhere) by this.
        self.on_slow = on_slow or center.suspend_slow
        self.audit = audit or WorkerAudit(app, names.audit, worker_name(settings.app_id))
        self.remembered: OrderedDict[str, Decision] = OrderedDict()
        self.scored = 0
        secret = settings.internal_secret
        self.router = ScoreRouter(
            app,
            accounts.table,
            secret=secret.get_secret_value().encode() if secret is not None else None,
            trusted=(
                ssl.create_default_context(cafile=settings.web_ssl_ca_file)
                if settings.web_ssl_ca_file is not None
                else None
            ),
        )

        lookback_ms = int(settings.profile_lookback_days * DAY_MS)
        self._follow(names.signals, self.profiles.apply_record, self.profiles_ready, lookback_ms)
        # Legit verdicts clear the alerts their transactions raised (books.ProfileBook).
        self._follow(
            names.feedback, self.profiles.apply_feedback_record, self.verdicts_ready, lookback_ms
        )
        self._follow(names.penalties, self.penalties.apply_record, self.penalties_ready)
        self._follow(names.profiles, self.history.apply_record, self.history_ready)
        # A retry after a restart must get the answer the client may already have acted
        # on, and the decisions topic must not carry two for one event.
        self._follow(
            names.decisions, self.remember_record, self.decisions_ready,
            int(settings.decision_memory_hours * 3600 * 1000),
            tail=max(1, settings.decision_memory_max // settings.partitions),
        )  # fmt: skip

    def _follow(
        self,
        topic: str,
        apply: Callable[[Any], None],
        ready: asyncio.Event,
        lookback_ms: int | None = None,
        tail: int | None = None,
    ) -> None:
        """Read ``topic`` (from ``lookback_ms`` back, else all of it) in a task of the app."""

        def since() -> int:
            return int(time.time() * 1000) - (lookback_ms or 0)

        async def follow() -> None:
            await follow_topic(
                client_options(self.settings), topic, apply, ready,
                since_ms=since if lookback_ms is not None else None, tail=tail,
            )  # fmt: skip

        follow.__name__ = follow.__qualname__ = f"follow_{topic}"
        self.app.task(follow)

    def ready(self) -> bool:
        return (
            self.center.ready.is_set()
            and self.profiles_ready.is_set()
            and self.penalties_ready.is_set()
            and self.decisions_ready.is_set()
            and self.verdicts_ready.is_set()
            and self.history_ready.is_set()
        )

    def remember(self, decision: Decision) -> None:
        self.remembered[decision.event_id] = decision
        if len(self.remembered) > self.settings.decision_memory_max:
            self.remembered.popitem(last=False)

    def remember_record(self, record: Any) -> None:
        """A decision read back from the decisions topic (ours or another worker's)."""
        try:
            data = loads(record.value)
            if isinstance(data, dict) and data.get("event_id") in self.remembered:
                return  # one of ours, read back: already remembered (and validating costs)
            decision = Decision.model_validate(data)
        except ValidationError as error:  # its own text would quote the record's values
            why = describe_validation_error(error)
            log.warning("decisions topic: unreadable record at %s: %s", record.offset, why)
            return
        except (ValueError, TypeError) as error:  # orjson's errors say where, not what
            log.warning("decisions topic: unreadable record at %s: %s", record.offset, error)
            return
        self.remember(decision)

    def spent_today(self, account_id: str, now: datetime) -> Decimal:
        snapshot = self.rules.snapshot(self.center.ruleset)
        record = self._account_record(snapshot, account_id)
        return Decimal(snapshot.engine.spent_on(record, to_epoch_ms(now)))

    def _account_record(self, snapshot: Snapshot, account_id: str) -> bytes | None:
        stored = self.accounts.table.get(account_id.encode())
        try:
            return snapshot.current(0, stored)
        except ValueError as error:
            log.warning("account %s: unreadable state record: %s", account_id, error)
            return None

    async def decide(self, transaction: Transaction) -> Decision:
        """The decision for a transaction; the same event id always gets the same one, and
        with another body an IdempotencyConflictError."""
        digest = request_digest(transaction)
        remembered = self.remembered.get(transaction.event_id)
        if remembered is not None:
            if remembered.request_sha256 not in (None, digest):
                raise IdempotencyConflictError(
                    f"event id {transaction.event_id!r} was scored before with another body"
                )
            return remembered
        if not self.ready():
            return cannot_judge(
                transaction.event_id,
                "RECOVERING",
                "the worker is still loading rules, signals, verdicts, penalties, profiles or"
                " past decisions",
                self.policy,
            )
        now = datetime.now(UTC)
        # One read serves both: the day's total, and the rule state the transaction is
        # tried on (never written back). Signals published so far only tell what earlier
        # events did; the transaction that completes a burst, a takeover or a cash-out
        # would otherwise be judged without the very pattern it completes.
        snapshot = self.rules.snapshot(self.center.ruleset)
        record = self._account_record(snapshot, transaction.account_id)
        spent = Decimal(snapshot.engine.spent_on(record, to_epoch_ms(now)))
        what_if = snapshot.engine.what_if(
            record, transaction.account_id, projection(transaction)[1]
        )
        own = [snapshot.signal(item) for item in what_if]
        evidence = gather(
            transaction, self.profiles, self.penalties, now, spent, own, self.center.counts,
            history=self.history,
        )  # fmt: skip
        decision = score(
            evidence, list(self.center.score_rules.values()), self.policy, self.center.version,
            budget_ms=self.settings.rule_time_budget_ms, on_slow=self.on_slow,
        ).model_copy(update={"request_sha256": digest})  # fmt: skip
        self.remember(decision)
        self.scored += 1
        await self.decisions_topic.send(
            key=transaction.account_id.encode(), value=dumps(decision), force=True
        )
        if self.settings.score_forward_transactions:
            await self.transactions_topic.send(
                key=transaction.account_id.encode(), value=dumps(transaction), force=True
            )
        return decision

    async def add_penalty(self, request: PenaltyRequest, operator: str) -> Penalty:
        # A card is penalised by its token, the id the state and the signals know it by.
        request = request.model_copy(
            update={"entity_id": self.tokeniser.lookup_id(request.entity_id),
                    "reason": mask_text(request.reason)}
        )  # fmt: skip
        penalty = make_penalty(request, operator, datetime.now(UTC))
        # The audit line is stored first: a penalty never exists without its line.
        await self._audit("add", operator, penalty.penalty_id, request.reason, penalty)
        await self.penalties_topic.send(
            key=penalty.penalty_id.encode(), value=dumps(penalty), force=True
        )
        self.penalties.put(penalty)  # read your own write at once
        return penalty

    async def remove_penalty(self, penalty_id: str, operator: str, reason: str) -> Penalty:
        current = self.penalties.get(penalty_id)
        if current is None:
            raise KeyError(penalty_id)
        await self._audit("remove", operator, penalty_id, mask_text(reason), current)
        await self.penalties_topic.send(key=penalty_id.encode(), value=None, force=True)
        self.penalties.remove(penalty_id)
        return current

    async def _audit(
        self, action: str, actor: str, penalty_id: str, reason: str, penalty: Penalty
    ) -> None:
        record = AuditRecord.model_validate({
            "at": datetime.now(UTC), "actor": actor, "action": action,
            "penalty_id": penalty_id, "reason": reason, "penalty": penalty,
        })  # fmt: skip
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
