"""Per-rule live precision and alert volume, judged by analyst and customer verdicts.

Every worker reads the signals and feedback topics (``books.ProfileBook`` keeps the
latest verdict per transaction id); this book keeps, per rule id and version, the newest
alerts (signals) of the lookback, each with the transactions it stands on: its trigger
and the events it cites as evidence. An alert is judged when one of them has a verdict:
``fraud`` if any has a fraud verdict, else ``legit``. An alert is judged when it
arrives, by the verdicts known then, and again whenever a verdict on one of its
transactions arrives (``reconsider``): a verdict that came before its signal counts as
well as one after, and a later verdict on a transaction (a fraud verdict after a legit
one, say) replaces the earlier one.

Precision is ``fraud / (fraud + legit)`` over the judged alerts, with its Wilson score
interval (95%) so that one fraud verdict out of one is not shown as certain.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from riskstream.streams.events import to_epoch_ms

DAY_MS = 86_400_000
# The evidence ids kept per alert: the verdicts that judge an alert sit on its trigger
# and the transactions it cites; a signal listing hundreds of events (a busy merchant)
# is judged by its newest ones, and its memory stays bounded.
MAX_EVIDENCE_IDS = 32
WILSON_Z = 1.959964  # 95%

RuleKey = tuple[str, int]  # (rule id, rule version)
Verdicts = Callable[[str], str | None]  # transaction id -> "fraud" | "legit" | None


@dataclass(slots=True)
class Alert:
    signal_id: str
    detected_ms: int
    transactions: tuple[str, ...]  # the trigger first, then the cited evidence
    verdict: str | None = None  # as last judged: "fraud", "legit" or None


@dataclass(slots=True)
class _Rule:
    """One rule version's kept alerts (oldest first) and their verdicts counted."""

    alerts: deque[Alert] = field(default_factory=deque)
    ids: set[str] = field(default_factory=set)
    fraud: int = 0
    legit: int = 0

    def count(self, verdict: str | None, step: int) -> None:
        if verdict == "fraud":
            self.fraud += step
        elif verdict == "legit":
            self.legit += step


def wilson(successes: int, trials: int, z: float = WILSON_Z) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion; None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


class RuleQuality:
    """The newest alerts per rule (id, version), bounded: ``keep_per_rule`` alerts each,
    those older than ``lookback_ms`` before the newest alert seen dropped.

    Counts are kept as signals and verdicts arrive (``apply_signal``, ``reconsider``),
    so the figures cost one pass over the rules, not over their alerts: they are asked
    for by every Prometheus scrape, on the worker's event loop.
    """

    def __init__(
        self, verdicts: Verdicts, lookback_ms: int = 7 * DAY_MS, keep_per_rule: int = 5_000
    ) -> None:
        self._verdicts = verdicts
        self.lookback_ms = lookback_ms
        self.keep_per_rule = keep_per_rule
        self._rules: dict[RuleKey, _Rule] = {}
        # Transaction id -> the kept alerts that stand on it (and their rule).
        self._by_transaction: dict[str, list[tuple[RuleKey, Alert]]] = {}
        self._newest_ms = 0
        self.skipped = 0

    def apply_signal(self, body: Any) -> bool:
        """A record of the signals topic (decoded JSON); one that is no readable signal is
        skipped and counted, never raised."""
        try:
            rule = (str(body["rule_id"]), int(body["rule_version"]))
            signal_id = str(body["signal_id"])
            detected_ms = to_epoch_ms(datetime.fromisoformat(str(body["detected_at"])))
            trigger = str(body["trigger_event_id"])
            evidence = body.get("evidence") or ()
            if not isinstance(evidence, list | tuple):
                raise TypeError("evidence is a list")
            cited = [str(item) for item in evidence[-MAX_EVIDENCE_IDS:]]
        except (KeyError, TypeError, ValueError, OverflowError):
            self.skipped += 1
            return False
        transactions = tuple(dict.fromkeys([trigger, *cited]))
        self.add(rule, Alert(signal_id, detected_ms, transactions))
        return True

    def add(self, rule: RuleKey, alert: Alert) -> None:
        kept = self._rules.setdefault(rule, _Rule())
        if alert.signal_id in kept.ids:
            return  # the same signal read again (a replayed topic, a retried send)
        alert.verdict = self.judge(alert)  # a verdict may have come first
        kept.count(alert.verdict, 1)
        kept.alerts.append(alert)
        kept.ids.add(alert.signal_id)
        for transaction in alert.transactions:
            self._by_transaction.setdefault(transaction, []).append((rule, alert))
        if len(kept.alerts) > self.keep_per_rule:
            self._drop(rule, kept)
        if alert.detected_ms > self._newest_ms:
            self._newest_ms = alert.detected_ms
            self._prune()

    def reconsider(self, transaction_id: str) -> None:
        """A verdict on ``transaction_id`` arrived (or changed): the alerts that stand on
        it are judged again."""
        for rule, alert in self._by_transaction.get(transaction_id, ()):
            verdict = self.judge(alert)
            if verdict != alert.verdict:
                kept = self._rules[rule]
                kept.count(alert.verdict, -1)
                kept.count(verdict, 1)
                alert.verdict = verdict

    def _drop(self, rule: RuleKey, kept: _Rule) -> None:
        """The oldest alert of ``rule`` out, with its counts and index entries."""
        alert = kept.alerts.popleft()
        kept.ids.discard(alert.signal_id)
        kept.count(alert.verdict, -1)
        for transaction in alert.transactions:
            standing = self._by_transaction.get(transaction)
            if standing is None:
                continue
            for index, (_, item) in enumerate(standing):
                if item is alert:
                    del standing[index]
                    break
            if not standing:
                del self._by_transaction[transaction]

    def _prune(self) -> None:
        """Alerts from before the lookback out (it ends at the newest alert seen)."""
        since = self._newest_ms - self.lookback_ms
        for rule in list(self._rules):
            kept = self._rules[rule]
            while kept.alerts and kept.alerts[0].detected_ms < since:
                self._drop(rule, kept)
            if not kept.alerts:
                del self._rules[rule]

    def judge(self, alert: Alert) -> str | None:
        """``fraud``, ``legit`` or None (no verdict on any of its transactions)."""
        found = None
        for transaction in alert.transactions:
            verdict = self._verdicts(transaction)
            if verdict == "fraud":
                return "fraud"
            if verdict is not None:
                found = "legit"
        return found

    def figures(self) -> dict[RuleKey, dict[str, Any]]:
        """Per rule (id, version): alerts over the lookback, those judged, fraud and legit
        verdicts, precision with its interval, alerts per day."""
        return {rule: self._rule_figures(kept) for rule, kept in self._rules.items()}

    def _rule_figures(self, kept: _Rule) -> dict[str, Any]:
        judged = kept.fraud + kept.legit
        interval = wilson(kept.fraud, judged)
        # Per day over the span the alerts cover (at least a day: a first alert is not
        # a rate of thousands a day).
        span_ms = max(DAY_MS, min(self.lookback_ms, self._newest_ms - kept.alerts[0].detected_ms))
        return {
            "alerts": len(kept.alerts),
            "judged": judged,
            "fraud": kept.fraud,
            "legit": kept.legit,
            "precision": round(kept.fraud / judged, 4) if judged else None,
            "precision_low": round(interval[0], 4) if interval else None,
            "precision_high": round(interval[1], 4) if interval else None,
            "alerts_per_day": round(len(kept.alerts) * DAY_MS / span_ms, 2),
        }

    def __iter__(self) -> Iterator[RuleKey]:
        return iter(list(self._rules))

    def __len__(self) -> int:
        return sum(len(kept.alerts) for kept in self._rules.values())


def empty_figures() -> dict[str, Any]:
    return {
        "alerts": 0, "judged": 0, "fraud": 0, "legit": 0, "precision": None,
        "precision_low": None, "precision_high": None, "alerts_per_day": 0.0,
    }  # fmt: skip
