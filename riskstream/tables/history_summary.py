"""Long-horizon profiles: what scoring reads, made from the day buckets of
``tables/history.py`` ``as_of`` a time.

Every windowed field exists for 7, 30 and 90 days (``amount_p95_7d`` ...); the name
without a suffix is the 90-day one (``amount_p95`` == ``amount_p95_90d``). A window of
``h`` days ``as_of`` a UTC midnight is the ``h`` whole days before it; as_of mid-day, it
also holds that day so far. Amount quantiles come from the log-binned histogram
(``tables/histogram.py``: within about 1% of the exact order statistic); a field with no
amount behind it (``amount_count`` 0) is left out rather than given a false 0.

Merchants, counterparties, devices and IPs also get **settled** windows of 1, 7 and 30
days ending ``label_delay_days`` before the window's end (``txn_count_settled_7d``,
``fraud_verdicts_settled_7d``, ``fraud_rate_settled_7d``): days whose verdicts have had
time to arrive. A payee's fraud rate over its last 30 days counts the last week's
payments, whose chargebacks are not in yet, as if they were clean, and so dilutes a
compromised terminal's first reported frauds; the settled rate does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from riskstream.tables import histogram
from riskstream.tables.history import (
    DAY_MS,
    Day,
    EntityHistory,
    EntityKey,
    HistoryBuilder,
    HistoryConfig,
)

HORIZONS = (7, 30, 90)
SETTLED_HORIZONS = (1, 7, 30)
LONGEST = 90  # the window of the names without a suffix
QUANTILES = (("median", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))
# The id lists of an account's profile: profile field -> the day buckets' set.
ACCOUNT_LISTS = (
    ("usual_merchants", "merchants", 2),
    ("usual_counterparties", "counterparties", 2),
    ("known_devices", "devices", 1),
    ("ip_prefixes", "ip_prefixes", 1),
    ("places", "places", 1),
    ("countries", "countries", 1),
)
ProfileValue = float | int | list[str]
Profile = Mapping[str, ProfileValue]
EMPTY: Profile = MappingProxyType({})


class HistorySource(Protocol):
    """Where long-horizon profiles are looked up: a snapshot, or the worker's replica."""

    def lookup(self, entity_type: str, entity_id: str) -> Profile: ...


def summarise(
    key: EntityKey, entity: EntityHistory, as_of_ms: int, config: HistoryConfig
) -> dict[str, ProfileValue]:
    """The profile of one entity ``as_of_ms`` (see the module's doc); empty for an entity
    not seen within the longest window (whether or not its old days were pruned yet).

    One pass over the days, newest first: each window holds the shorter ones, so the
    sums run on from one to the next."""
    last = (as_of_ms - 1) // DAY_MS
    firsts = [(horizon, (as_of_ms - horizon * DAY_MS) // DAY_MS) for horizon in HORIZONS]
    oldest = firsts[-1][1]
    indices = sorted((index for index in entity.days if oldest <= index <= last), reverse=True)
    if not indices:
        return {}
    profile: dict[str, ProfileValue] = {
        "days_since_first_seen": round(max(0, as_of_ms - entity.first_ms) / DAY_MS, 3)
    }
    is_account = key[0] == "account"
    prior_fraud = config.prior_fraud_rate * config.prior_strength
    count = amounts = fraud = legit = active = 0
    total = 0.0
    merged: histogram.Histogram = {}
    accounts: set[str] = set()
    position = 0
    for horizon, first in firsts:
        while position < len(indices) and indices[position] >= first:
            day = entity.days[indices[position]]
            position += 1
            count += day.n
            amounts += day.amount_n
            total += day.amount_sum
            fraud += day.fraud
            legit += day.legit
            for bin_index, seen in day.hist.items():
                merged[bin_index] = merged.get(bin_index, 0) + seen
            if is_account:
                active += day.n > 0
            else:
                accounts.update(day.sets.get("accounts", ()))
        fields: dict[str, ProfileValue] = {
            "txn_count": count,
            "amount_count": amounts,
            "fraud_verdicts": fraud,
            "legit_verdicts": legit,
            # A Beta prior: one verdict on a tiny merchant does not make it 100% fraud.
            "fraud_rate": round(
                min(1.0, (fraud + prior_fraud) / (count + config.prior_strength)), 6
            ),
        }
        if amounts:
            values = histogram.quantiles(merged, [q for _, q in QUANTILES])
            for (name, _), quantile in zip(QUANTILES, values, strict=True):
                fields[f"amount_{name}"] = round(quantile or 0.0, 4)
            fields["amount_mean"] = round(total / amounts, 4)
            fields["amount_sum"] = round(total, 4)
        if is_account:
            fields["active_days"] = active
        else:
            fields["accounts"] = len(accounts)
        for name, value in fields.items():
            profile[f"{name}_{horizon}d"] = value
            if horizon == LONGEST:
                profile[name] = value
    if not is_account:
        profile.update(_settled(entity, last - config.label_delay_days, config))
    if is_account:
        days = [entity.days[index] for index in indices]
        profile["usual_hours"] = _usual_hours(days)
        for name, bucket_set, at_least in ACCOUNT_LISTS:
            counted = _union(days, bucket_set)
            usual = [item for item, seen in counted.items() if seen >= at_least]
            usual.sort(key=lambda item: (-counted[item], item))
            profile[name] = usual[: config.top]
    return profile


def _settled(entity: EntityHistory, last: int, config: HistoryConfig) -> dict[str, ProfileValue]:
    """The settled windows: the days up to ``last``, the newest day whose verdicts count
    as in (see the module's doc)."""
    fields: dict[str, ProfileValue] = {}
    prior_fraud = config.prior_fraud_rate * config.prior_strength
    for horizon in SETTLED_HORIZONS:
        count = fraud = 0
        for index in range(last - horizon + 1, last + 1):
            day = entity.days.get(index)
            if day is not None:
                count += day.n
                fraud += day.fraud
        fields[f"txn_count_settled_{horizon}d"] = count
        fields[f"fraud_verdicts_settled_{horizon}d"] = fraud
        fields[f"fraud_rate_settled_{horizon}d"] = round(
            min(1.0, (fraud + prior_fraud) / (count + config.prior_strength)), 6
        )
    return fields


def _union(days: Iterable[Day], name: str) -> dict[str, int]:
    total: dict[str, int] = {}
    for day in days:
        for item, seen in day.sets.get(name, {}).items():
            total[item] = total.get(item, 0) + seen
    return total


def _usual_hours(days: Iterable[Day]) -> list[str]:
    """The hours (of ``event.hour``, as text) holding at least 5% of the transactions and
    two of them: ``string(event.hour) in profiles.account.usual_hours``."""
    counted: dict[int, int] = {}
    for day in days:
        for hour, seen in day.hours.items():
            counted[hour] = counted.get(hour, 0) + seen
    total = sum(counted.values())
    return [str(hour) for hour in sorted(counted) if counted[hour] >= max(2, 0.05 * total)]


@dataclass(slots=True)
class Snapshot:
    """Every entity's profile ``as_of_ms``: the answer of one build."""

    as_of_ms: int
    profiles: dict[EntityKey, dict[str, ProfileValue]] = field(default_factory=dict)

    def lookup(self, entity_type: str, entity_id: str) -> Profile:
        return self.profiles.get((entity_type, entity_id), EMPTY)

    def __len__(self) -> int:
        return len(self.profiles)


def take_snapshot(builder: HistoryBuilder, as_of_ms: int) -> Snapshot:
    """Every entity's profile as of ``as_of_ms``, from a builder fed the events up to it
    (later ones, if fed, are left out of the windows but not of the verdicts)."""
    builder.prune(as_of_ms)
    snapshot = Snapshot(as_of_ms)
    for key, entity in builder.entities.items():
        profile = summarise(key, entity, as_of_ms, builder.config)
        if profile:
            snapshot.profiles[key] = profile
    return snapshot


class LazySnapshot:
    """The profiles ``as_of_ms`` of a builder that goes on being fed, computed when asked:
    before an event changes an entity, :meth:`freeze` computes that entity's profile as it
    stood. A replay pays for the entities it touches, not for every entity every day."""

    def __init__(self, builder: HistoryBuilder, as_of_ms: int) -> None:
        self.builder = builder
        self.as_of_ms = as_of_ms
        self._done: dict[EntityKey, Profile] = {}

    def freeze(self, keys: Iterable[EntityKey]) -> None:
        for key in keys:
            if key not in self._done:
                self._done[key] = self._compute(key)

    def _compute(self, key: EntityKey) -> Profile:
        entity = self.builder.entities.get(key)
        if entity is None:
            return EMPTY
        return summarise(key, entity, self.as_of_ms, self.builder.config) or EMPTY

    def lookup(self, entity_type: str, entity_id: str) -> Profile:
        key = (entity_type, entity_id)
        found = self._done.get(key)
        if found is None:
            found = self._done[key] = self._compute(key)
        return found
