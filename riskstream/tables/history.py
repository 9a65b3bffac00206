"""Long-horizon profiles (the scheduled engine): the state a build keeps per entity.

Fed contract-v1 events in event-time order, :class:`HistoryBuilder` keeps, per entity
(account, merchant, counterparty, device, IP), one bucket per UTC day of its last
``KEEP_DAYS`` days: counts, a log-binned amount histogram, hour counts and small capped
sets of the ids seen. A bucket is all a profile needs, so the state is bounded (days x
caps) and mergeable: the next build loads it (``load``) and slides the window on with the
new events only; the transactions topic keeps one week, the profiles ninety days.

Feedback is counted on the day of the transaction it judges, when it is fed: a profile
``as_of`` a time knows the verdicts given up to then and no later one (the feedback
delay). A verdict finds its transaction through its account's log of recent transactions
(``recent_cap`` of them), which says which device, IP and payee it touched.

Profiles (the summaries read by scoring) are made from this state in
``tables/history_summary.py``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from riskstream.streams.events import (
    OUTGOING,
    AccountEvent,
    Event,
    Feedback,
    Transaction,
    ip_prefix,
)
from riskstream.streams.settings import get_settings
from riskstream.tables import histogram

DAY_MS = 86_400_000
KEEP_DAYS = 91  # the 90-day window, and the partial day a mid-day as_of starts it with
# The settled 30-day window, so many days back, must still be kept (KEEP_DAYS).
MAX_LABEL_DELAY_DAYS = 60
ENTITY_TYPES = ("account", "merchant", "counterparty", "device", "ip")
EntityKey = tuple[str, str]  # (entity type, entity id)


@dataclass(frozen=True, slots=True)
class HistoryConfig:
    """The bounds of the state and the prior of the fraud rates."""

    set_cap: int = 32  # ids an account's day keeps per set (merchants, devices ...)
    accounts_cap: int = 64  # accounts a merchant, device or IP's day keeps
    recent_cap: int = 512  # transactions an account remembers for verdicts to find
    # Beta prior of a fraud rate: its mean, and its weight in transactions.
    prior_fraud_rate: float = 0.01
    prior_strength: float = 20.0
    top: int = 20  # ids a profile lists (usual merchants, known devices ...)
    # How long verdicts take to arrive: the settled windows (``history_summary``) end
    # this many days back. A week is the delay fraud-detection practice reports for
    # card chargebacks and investigations (Le Borgne et al.'s handbook, chapter 5).
    label_delay_days: int = 7

    def __post_init__(self) -> None:
        if not 0 <= self.label_delay_days <= MAX_LABEL_DELAY_DAYS:
            raise ValueError(f"label_delay_days: 0 to {MAX_LABEL_DELAY_DAYS}")

    @classmethod
    def from_settings(cls) -> HistoryConfig:
        """The configuration the deployment's settings give (``RISKSTREAM_PROFILES_*``)."""
        return cls(label_delay_days=get_settings().profiles_label_delay_days)


class Day:
    """One entity's UTC day."""

    __slots__ = ("amount_n", "amount_sum", "fraud", "hist", "hours", "legit", "n", "sets")

    def __init__(self) -> None:
        self.n = 0  # transactions (failed ones are not counted)
        self.amount_n = 0  # amounts in the histogram (an account's: its outgoing ones)
        self.amount_sum = 0.0
        self.hist: dict[int, int] = {}
        self.fraud = 0  # verdicts known on this day's transactions
        self.legit = 0
        self.hours: dict[int, int] = {}
        self.sets: dict[str, dict[str, int]] = {}

    def note(self, name: str, value: str | None, cap: int) -> None:
        """Count ``value`` in set ``name``; a full set counts the ids it has, no new one."""
        if not value:
            return
        kept = self.sets.setdefault(name, {})
        if value in kept:
            kept[value] += 1
        elif len(kept) < cap:
            kept[value] = 1

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"n": self.n}
        if self.amount_n:
            body |= {
                "an": self.amount_n,
                "as": self.amount_sum,
                "h": {str(k): v for k, v in self.hist.items()},
            }
        if self.fraud or self.legit:
            body |= {"f": self.fraud, "l": self.legit}
        if self.hours:
            body["hr"] = {str(k): v for k, v in self.hours.items()}
        if self.sets:
            body["s"] = self.sets
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Day:
        """A day from a published state; raises ValueError/TypeError when malformed."""
        day = cls()
        day.n = _count(body.get("n", 0))
        day.amount_n = _count(body.get("an", 0))
        day.amount_sum = float(body.get("as", 0.0))
        if not math.isfinite(day.amount_sum) or day.amount_sum < 0:
            raise ValueError("a day's amount sum is not a finite positive number")
        day.hist = {int(k): _count(v) for k, v in dict(body.get("h", {})).items()}
        if any(abs(bin_index) > histogram.MAX_BIN for bin_index in day.hist):
            raise ValueError("a histogram bin beyond any amount")
        day.fraud = _count(body.get("f", 0))
        day.legit = _count(body.get("l", 0))
        day.hours = {int(k): _count(v) for k, v in dict(body.get("hr", {})).items()}
        if any(not 0 <= hour < 24 for hour in day.hours):
            raise ValueError("an hour outside 0-23")
        day.sets = {
            str(name): {str(k): _count(v) for k, v in dict(ids).items()}
            for name, ids in dict(body.get("s", {})).items()
        }
        return day


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a count must be a whole number >= 0, not {type(value).__name__}")
    return value


class EntityHistory:
    """One entity's days, when it was first seen, and (accounts) its recent transactions:
    event id -> [day, the keys ("type:id") it touched, the verdict counted on it]."""

    __slots__ = ("days", "first_ms", "pruned_to", "recent")

    def __init__(self, first_ms: int) -> None:
        self.first_ms = first_ms
        self.days: dict[int, Day] = {}
        self.recent: OrderedDict[str, list[Any]] = OrderedDict()
        self.pruned_to = -(1 << 62)  # nothing older than this day is held

    def day(self, index: int) -> Day:
        found = self.days.get(index)
        if found is None:
            found = self.days[index] = Day()
        return found

    def prune(self, oldest_day: int) -> None:
        # An entity is touched many times a day, and its days age once a day.
        if oldest_day <= self.pruned_to:
            return
        self.pruned_to = oldest_day
        for index in [index for index in self.days if index < oldest_day]:
            del self.days[index]
        while self.recent:
            first = next(iter(self.recent.values()))
            if first[0] >= oldest_day:
                break
            self.recent.popitem(last=False)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "first_ms": self.first_ms,
            "days": {str(index): day.to_json() for index, day in sorted(self.days.items())},
        }
        if self.recent:
            body["recent"] = [[event_id, *entry] for event_id, entry in self.recent.items()]
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> EntityHistory:
        """An entity's state from a published record; ValueError/TypeError when malformed."""
        first_ms = body["first_ms"]
        if isinstance(first_ms, bool) or not isinstance(first_ms, int):
            raise ValueError("first_ms must be epoch milliseconds")
        history = cls(first_ms)
        for index, day in dict(body["days"]).items():
            if not isinstance(day, Mapping):
                raise ValueError("a day must be an object")
            history.days[int(index)] = Day.from_json(day)
        for item in list(body.get("recent", [])):
            event_id, index, keys, label = item
            if label not in (None, "fraud", "legit"):
                raise ValueError("a recent transaction's verdict must be fraud, legit or null")
            history.recent[str(event_id)] = [int(index), [str(key) for key in keys], label]
        return history


def entity_key_text(key: EntityKey) -> str:
    """The key of a profile on the topic and in the recent log: ``type:id``."""
    return f"{key[0]}:{key[1]}"


def parse_entity_key(text: str) -> EntityKey:
    kind, sep, entity_id = text.partition(":")
    if not sep or kind not in ENTITY_TYPES or not entity_id:
        raise ValueError("a profile key must be <entity type>:<entity id>")
    return kind, entity_id


def payee_type(transaction: Transaction) -> str:
    """A payment's counterparty is a merchant (or terminal); any other's, a counterparty."""
    return "merchant" if transaction.type == "payment" else "counterparty"


class HistoryBuilder:
    """Per-entity day buckets, fed events in event-time order (see the module's doc)."""

    def __init__(self, config: HistoryConfig | None = None) -> None:
        self.config = config or HistoryConfig.from_settings()
        self.entities: dict[EntityKey, EntityHistory] = {}
        self.fed = 0
        self.unmatched_verdicts = 0  # verdicts whose transaction the account no longer recalls
        self._pruned_day = -1

    def touches(self, event: Event) -> list[EntityKey]:
        """The entities feeding ``event`` changes (a replay freezes their profiles first)."""
        if isinstance(event, Feedback):
            account = self.entities.get(("account", event.account_id))
            entry = account.recent.get(event.target_event_id) if account else None
            return [parse_entity_key(key) for key in entry[1]] if entry else []
        keys: list[EntityKey] = [("account", event.account_id)]
        if event.device_id:
            keys.append(("device", event.device_id))
        if event.ip:
            keys.append(("ip", event.ip))
        if isinstance(event, Transaction) and event.counterparty_id:
            keys.append((payee_type(event), event.counterparty_id))
        return keys

    def _entity(self, key: EntityKey, at_ms: int) -> EntityHistory:
        found = self.entities.get(key)
        if found is None:
            found = self.entities[key] = EntityHistory(at_ms)
        elif at_ms < found.first_ms:
            found.first_ms = at_ms
        return found

    def feed(self, event: Event) -> None:
        self.fed += 1
        if isinstance(event, Feedback):
            self._verdict(event)
            return
        if isinstance(event, Transaction) and event.status == "failed":
            return
        at_ms = event.occurred_ms
        index = at_ms // DAY_MS
        oldest = index - KEEP_DAYS + 1
        if index > self._pruned_day:  # once a day: entities no longer seen are forgotten
            self.prune(index * DAY_MS)
            self._pruned_day = index
        elif index <= self._pruned_day - KEEP_DAYS:
            return  # so late that no window holds its day any more
        cap, accounts_cap = self.config.set_cap, self.config.accounts_cap
        keys = self.touches(event)
        geo = event.geo
        place = f"{math.floor(geo.lat)},{math.floor(geo.lon)}" if geo else None
        for key in keys:
            entity = self._entity(key, at_ms)
            entity.prune(oldest)
            if not entity.days:  # unseen for the longest window: seen anew, as if forgotten
                entity.first_ms = at_ms
            day = entity.day(index)
            if key[0] != "account":
                day.note("accounts", event.account_id, accounts_cap)
                if isinstance(event, Transaction):
                    day.n += 1
                    _add_amount(day, float(event.amount))
                continue
            day.note("devices", event.device_id, cap)
            day.note("ip_prefixes", ip_prefix(event.ip), cap)
            day.note("places", place, cap)
            day.note("countries", geo.country if geo else None, cap)
            if isinstance(event, AccountEvent):
                continue
            assert isinstance(event, Transaction)
            day.n += 1
            hour = event.occurred_at.hour
            day.hours[hour] = day.hours.get(hour, 0) + 1
            if event.counterparty_id:
                payees = "merchants" if payee_type(event) == "merchant" else "counterparties"
                day.note(payees, event.counterparty_id, cap)
            if event.type in OUTGOING:
                _add_amount(day, float(event.amount))
            entity.recent[event.event_id] = [index, [entity_key_text(k) for k in keys], None]
            entity.recent.move_to_end(event.event_id)
            while len(entity.recent) > self.config.recent_cap:
                entity.recent.popitem(last=False)

    def _verdict(self, feedback: Feedback) -> None:
        """Count a verdict on its transaction's day, for every entity it touched; a later
        verdict on the same transaction replaces the earlier one."""
        account = self.entities.get(("account", feedback.account_id))
        entry = account.recent.get(feedback.target_event_id) if account else None
        if entry is None:
            self.unmatched_verdicts += 1
            return
        index, keys, before = entry
        if before == feedback.label:
            return
        entry[2] = feedback.label
        for text in keys:
            entity = self.entities.get(parse_entity_key(text))
            day = entity.days.get(index) if entity else None
            if day is None:
                continue
            if before == "fraud":
                day.fraud -= 1
            elif before == "legit":
                day.legit -= 1
            if feedback.label == "fraud":
                day.fraud += 1
            else:
                day.legit += 1

    def prune(self, as_of_ms: int) -> None:
        """Forget the days a profile ``as_of_ms`` no longer needs, and emptied entities."""
        oldest = as_of_ms // DAY_MS - KEEP_DAYS + 1
        for key in list(self.entities):
            entity = self.entities[key]
            entity.prune(oldest)
            if not entity.days:
                del self.entities[key]

    def load(self, key: EntityKey, state: Mapping[str, Any]) -> None:
        """Take up an entity's state from a previous build (``EntityHistory.to_json``)."""
        self.entities[key] = EntityHistory.from_json(state)


def _add_amount(day: Day, amount: float) -> None:
    day.amount_n += 1
    day.amount_sum += amount
    histogram.add(day.hist, amount)
