"""The learned model's features: one row of numbers per transaction, from its
:class:`~riskstream.agents.scoring.Evidence`. The only feature code there is: the live
scorer and the offline scoring pass (training, backtest) both call :func:`feature_row`,
so a model is served the very features it was trained on.

Three families, NaN where a value is unknown (LightGBM learns where missing values go):

- the transaction itself: amount, log amount, type, channel, UTC hour and weekend, money
  going out or not, status, and the account's outgoing total so far today. Whether a
  field is present at all (a device, a place) is left out on purpose: it tells how an
  integration fills its events, not how a customer behaves, and a model that learns it
  learns the data source (a simulator's, say) rather than fraud;
- the rule evidence: the strongest active signal per entity type, how many patterns are
  active, their noisy-OR (what the rules alone would score), and one feature per pattern
  of the shipped pack (its strongest severity; 0 when it is silent). Pattern names are
  read from the pack, so a rule added to it becomes a feature of the next model;
- the long-horizon profiles (``evidence.history``, entity type -> profile): how the
  amount sits against the account's own distribution, how long and how much the account
  has been active, whether the device, IP, payee and hour are ones the account knows,
  and the payee's, device's and IP's fraud rates and number of distinct payers, with
  their settled shares (the windows whose verdicts are in: ``history_summary``).

A model names its features in its artefact; :func:`feature_row` fills any list of names
it knows, in that order (a name it does not know is NaN), so a model trained before a
pack change still gets the row it expects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from riskstream.agents.scoring import TRANSACTION_ENTITIES, Evidence
from riskstream.rules.loader import default_pack
from riskstream.streams.events import OUTGOING, TRANSACTION_TYPES, ip_prefix

NAN = math.nan
# Channels common to wallets and card payments; any other is "channel_other".
CHANNELS = ("app", "web", "pos", "atm", "api")
ENTITY_TYPES = tuple(kind for kind, _ in TRANSACTION_ENTITIES)


@cache
def pack_patterns() -> tuple[str, ...]:
    """The signal patterns of the shipped pack, sorted."""
    return tuple(sorted({rule.signal_pattern for rule in default_pack()}))


def _number(value: Any) -> float:
    """A profile value as a float; NaN when absent or not a number."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else NAN
    return NAN


def _ratio(top: float, bottom: float) -> float:
    if math.isnan(top) or math.isnan(bottom) or bottom <= 0:
        return NAN
    return top / bottom


def _known(profile: Mapping[str, Any], fields: tuple[str, ...], value: str | None) -> float:
    """1 when ``value`` is in one of the profile's lists ``fields``, 0 when not, NaN when
    the profile has none of them or the transaction no such value."""
    lists = [profile[name] for name in fields if isinstance(profile.get(name), list | tuple)]
    if value is None or not lists:
        return NAN
    return 1.0 if any(value in listed for listed in lists) else 0.0


# Long-horizon features: (name, function of (account, payee, device and IP profiles),
# the evidence and the amount). Field names are those of ``tables/history_summary.py``:
# windowed fields carry their window (``_7d``, ``_30d``, ``_90d``).
Profiles = tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]
HistoryFeature = Callable[[Profiles, Evidence, float], float]


def _amount_over(field: str) -> HistoryFeature:
    return lambda p, _e, amount: _ratio(amount, _number(p[0].get(field)))


def _amount_spread(p: Profiles, _e: Evidence, amount: float) -> float:
    """How far above the account's median, in its own spread (p90 - median): robust to
    the one large purchase a mean and a deviation would be moved by."""
    median, p90 = _number(p[0].get("amount_median_30d")), _number(p[0].get("amount_p90_30d"))
    if math.isnan(median) or math.isnan(p90):
        return NAN
    return (amount - median) / max(p90 - median, 1.0)


def _day_over_usual(p: Profiles, e: Evidence, amount: float) -> float:
    """Today's outgoing total with this transaction, over the account's usual day."""
    total, days = _number(p[0].get("amount_sum_30d")), _number(p[0].get("active_days_30d"))
    return _ratio(float(e.spent_today) + amount, _ratio(total, days))


def _field(index: int, name: str) -> HistoryFeature:
    return lambda p, _e, _a: _number(p[index].get(name))


def _place(e: Evidence) -> str | None:
    geo = e.transaction.geo  # as the profiles build names a place: a 1-degree cell
    return f"{math.floor(geo.lat)},{math.floor(geo.lon)}" if geo else None


def _country(e: Evidence) -> str | None:
    return e.transaction.geo.country if e.transaction.geo else None


def _settled_share(index: int, days: int) -> HistoryFeature:
    """The share of the entity's settled window's payments with a fraud verdict, without
    the profile's prior (a tree reads the count beside it); NaN with none."""

    def share(p: Profiles, _e: Evidence, _a: float) -> float:
        count = _number(p[index].get(f"txn_count_settled_{days}d"))
        return _ratio(_number(p[index].get(f"fraud_verdicts_settled_{days}d")), count)

    return share


def _usual_hour(p: Profiles, e: Evidence, _a: float) -> float:
    return _known(p[0], ("usual_hours",), str(e.transaction.occurred_at.hour))


HISTORY_FEATURES: tuple[tuple[str, HistoryFeature], ...] = (
    ("h_amount_over_p95_30d", _amount_over("amount_p95_30d")),
    ("h_amount_over_median_30d", _amount_over("amount_median_30d")),
    ("h_amount_over_p99_90d", _amount_over("amount_p99_90d")),
    ("h_amount_spread_30d", _amount_spread),
    ("h_day_over_usual_30d", _day_over_usual),
    ("h_count_7d", _field(0, "txn_count_7d")),
    ("h_count_30d", _field(0, "txn_count_30d")),
    ("h_count_90d", _field(0, "txn_count_90d")),
    ("h_active_days_30d", _field(0, "active_days_30d")),
    ("h_days_since_first", _field(0, "days_since_first_seen")),
    ("h_device_known", lambda p, e, _a: _known(p[0], ("known_devices",), e.transaction.device_id)),
    ("h_ip_known", lambda p, e, _a: _known(p[0], ("ip_prefixes",), ip_prefix(e.transaction.ip))),
    ("h_payee_known", lambda p, e, _a: _known(
        p[0], ("usual_merchants", "usual_counterparties"), e.transaction.counterparty_id
    )),
    ("h_place_known", lambda p, e, _a: _known(p[0], ("places",), _place(e))),
    ("h_country_known", lambda p, e, _a: _known(p[0], ("countries",), _country(e))),
    ("h_usual_hour", _usual_hour),
    ("h_account_fraud_rate_90d", _field(0, "fraud_rate_90d")),
    ("h_payee_fraud_rate_30d", _field(1, "fraud_rate_30d")),
    ("h_payee_accounts_30d", _field(1, "accounts_30d")),
    ("h_payee_count_30d", _field(1, "txn_count_30d")),
    ("h_payee_days_since_first", _field(1, "days_since_first_seen")),
    ("h_payee_fraud_share_settled_1d", _settled_share(1, 1)),
    ("h_payee_fraud_share_settled_7d", _settled_share(1, 7)),
    ("h_payee_fraud_share_settled_30d", _settled_share(1, 30)),
    ("h_payee_count_settled_1d", _field(1, "txn_count_settled_1d")),
    ("h_payee_count_settled_7d", _field(1, "txn_count_settled_7d")),
    ("h_payee_count_settled_30d", _field(1, "txn_count_settled_30d")),
    ("h_device_fraud_rate_30d", _field(2, "fraud_rate_30d")),
    ("h_device_fraud_share_settled_30d", _settled_share(2, 30)),
    ("h_device_accounts_30d", _field(2, "accounts_30d")),
    ("h_ip_fraud_rate_30d", _field(3, "fraud_rate_30d")),
    ("h_ip_accounts_30d", _field(3, "accounts_30d")),
    ("h_ip_fraud_share_settled_30d", _settled_share(3, 30)),
)  # fmt: skip


def _names() -> tuple[str, ...]:
    names = [
        "amount", "log_amount", "hour", "weekend", "outgoing", "failed", "pending",
        "spent_today", "log_spent_today",
        *(f"type_{kind}" for kind in sorted(TRANSACTION_TYPES)),
        *(f"channel_{name}" for name in CHANNELS), "channel_other",
        *(f"sev_{kind}" for kind in ENTITY_TYPES),
        "patterns", "signals_noisy_or",
        *(f"pat_{pattern}" for pattern in pack_patterns()),
        *(name for name, _ in HISTORY_FEATURES),
    ]  # fmt: skip
    return tuple(names)


FEATURES: tuple[str, ...] = _names()
_NO_HISTORY = {name: NAN for name, _ in HISTORY_FEATURES}
_ZERO_ONE_HOT = {
    **{f"type_{kind}": 0.0 for kind in TRANSACTION_TYPES},
    **{f"channel_{name}": 0.0 for name in (*CHANNELS, "other")},
}
_SEVERITY_NAMES = tuple((kind, f"sev_{kind}") for kind in ENTITY_TYPES)
_PATTERN_NAMES = tuple((pattern, f"pat_{pattern}") for pattern in pack_patterns())


def _history(evidence: Evidence) -> Profiles:
    history = evidence.history
    txn = evidence.transaction
    payee = history.get("merchant") or history.get("counterparty") or {}
    if txn.counterparty_id is None:
        payee = {}
    return (history.get("account", {}), payee, history.get("device", {}), history.get("ip", {}))


def feature_values(evidence: Evidence) -> dict[str, float]:
    """Every feature of ``evidence`` by name."""
    txn = evidence.transaction
    amount = float(txn.amount)
    spent = float(evidence.spent_today)
    at = txn.occurred_at
    values: dict[str, float] = {
        "amount": amount,
        "log_amount": math.log1p(amount),
        "hour": at.hour + at.minute / 60,
        "weekend": 1.0 if at.weekday() >= 5 else 0.0,
        "outgoing": 1.0 if txn.type in OUTGOING else 0.0,
        "failed": 1.0 if txn.status == "failed" else 0.0,
        "pending": 1.0 if txn.status == "pending" else 0.0,
        "spent_today": spent,
        "log_spent_today": math.log1p(max(spent, 0.0)),
    }
    values.update(_ZERO_ONE_HOT)
    values[f"type_{txn.type}"] = 1.0
    if txn.channel in CHANNELS:
        values[f"channel_{txn.channel}"] = 1.0
    elif txn.channel is not None:
        values["channel_other"] = 1.0
    _signal_values(evidence, values)
    profiles = _history(evidence)
    if any(profiles):
        for name, compute in HISTORY_FEATURES:
            values[name] = compute(profiles, evidence, amount)
    else:  # no profile of any entity (none built yet, or live without profiles)
        values.update(_NO_HISTORY)
    return values


def _signal_values(evidence: Evidence, values: dict[str, float]) -> None:
    strongest: dict[str, int] = {}  # pattern -> severity
    by_rule: dict[str, int] = {}  # the score counts a rule once: its strongest signal
    for kind, name in _SEVERITY_NAMES:
        signals = evidence.signals.get(kind, ())
        values[name] = float(max((s.severity for s in signals), default=0)) if signals else 0.0
        for signal in signals:
            if signal.severity > strongest.get(signal.pattern, -1):
                strongest[signal.pattern] = signal.severity
            key = f"{kind}\0{signal.rule_id}"
            by_rule[key] = max(by_rule.get(key, 0), signal.severity)
    remaining = 1.0
    for severity in by_rule.values():
        remaining *= 1 - min(max(severity, 0), 100) / 100
    values["patterns"] = float(len(strongest))
    values["signals_noisy_or"] = 100 * (1 - remaining)
    for pattern, name in _PATTERN_NAMES:
        values[name] = float(strongest.get(pattern, 0))


def feature_row(evidence: Evidence, features: Sequence[str] = FEATURES) -> list[float]:
    """``evidence`` as the row a model reads: the values of ``features``, in order."""
    values = feature_values(evidence)
    return [values.get(name, NAN) for name in features]


def rows_text(rows: Iterable[tuple[str, Sequence[float]]]) -> str:
    """(event id, row) lines as a stable text (golden files): repr of each float."""
    return "".join(f"{event_id}\t{' '.join(repr(v) for v in row)}\n" for event_id, row in rows)
