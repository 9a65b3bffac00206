"""Feedback: who reports a fraud, how long it takes, and the legit disputes of ordinary days.

Delays are log-normal per source: a customer notices within hours to a couple of days,
an analyst confirms within about half a day of the case opening, and a card's chargeback
comes back through the card scheme after days to weeks. Feedback is an event of its own
at its delayed time; :mod:`.dataset` decides what becomes of feedback due after the end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from riskstream.simulation.geography import HOUR_MS

Source = Literal["analyst", "chargeback", "customer"]

# source -> (median delay in hours, sigma of its logarithm)
DELAYS: dict[Source, tuple[float, float]] = {
    "customer": (18.0, 1.0),
    "analyst": (10.0, 0.9),
    "chargeback": (6 * 24.0, 0.5),
}
MIN_DELAY_MS = 10 * 60_000
MAX_DELAY_MS = 60 * 24 * HOUR_MS

# Share of ordinary successful payments a customer disputes, cleared as legit.
LEGIT_DISPUTE_RATE = 0.002


def delay_ms(rng: random.Random, source: Source) -> int:
    median, sigma = DELAYS[source]
    value = int(median * HOUR_MS * rng.lognormvariate(0.0, sigma))
    return min(max(value, MIN_DELAY_MS), MAX_DELAY_MS)


def payload(target: dict[str, Any], label: str, source: Source) -> dict[str, Any]:
    """A feedback event on ``target`` (without event id and time: the caller sets them).

    It names the merchant as counterparty when the target is a payment, so that the
    merchant's fraud rate can be counted; other targets' counterparties are accounts.
    """
    fields: dict[str, Any] = {
        "type": "feedback",
        "target_event_id": target["event_id"],
        "label": label,
        "account_id": target["account_id"],
        "source": source,
    }
    if target["type"] == "payment" and target.get("counterparty_id"):
        fields["counterparty_id"] = target["counterparty_id"]
    return fields


@dataclass(frozen=True, slots=True)
class Report:
    """Which of a fraud story's transactions are reported, and by whom.

    ``which``: ``all``, ``first``, ``last``, or ``some`` (each with even odds, at least
    one), among the transactions of ``types`` (all when None). Only money that moved
    (status other than failed) is reported.
    """

    which: Literal["all", "first", "last", "some"]
    source: Source
    types: frozenset[str] | None = None
    chance: float = 0.9  # that the story is reported at all


# Per pack rule: the victims' disputes, the card issuers' chargebacks, the analysts'
# confirmations. No entry: nothing to report (a run of logins), or the story carries its
# own feedback (the merchant's fraud rate).
REPORTS: dict[str, Report] = {
    "velocity.account": Report("all", "customer"),  # the owner disputes the drain
    "velocity.device": Report("some", "chargeback"),  # stolen cards behind the script
    "velocity.ip": Report("some", "chargeback"),
    "card_testing": Report("last", "chargeback"),  # the large charge on the tested card
    "account_takeover": Report("last", "customer"),  # the withdrawal
    "cash_out": Report("first", "chargeback"),  # the top-up from a stolen card
    "structuring": Report("all", "analyst"),
    "mule.fan_in": Report("all", "customer", frozenset({"transfer"})),  # the victims
    "mule.fan_out": Report("some", "analyst"),
    "impossible_travel": Report("last", "customer"),  # the payment from far away
    "device.shared_accounts": Report("all", "analyst"),
    "dormant_account": Report("last", "analyst"),
    "red_packet.collusion": Report("last", "analyst"),
    "amount.spike": Report("last", "customer"),
}


def reported(
    rng: random.Random, rule_id: str, transactions: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], Source]]:
    """The (transaction, source) pairs of a fraud story that get feedback."""
    report = REPORTS.get(rule_id)
    if report is None:
        return []
    moved = [
        txn
        for txn in transactions
        if txn.get("status") != "failed" and (report.types is None or txn["type"] in report.types)
    ]
    if not moved or rng.random() >= report.chance:
        return []
    if report.which == "all":
        chosen = moved
    elif report.which == "first":
        chosen = moved[:1]
    elif report.which == "last":
        chosen = moved[-1:]
    else:
        chosen = [txn for txn in moved if rng.random() < 0.5] or [rng.choice(moved)]
    return [(txn, report.source) for txn in chosen]
