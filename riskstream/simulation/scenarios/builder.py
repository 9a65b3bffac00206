"""The core of the scenario builder: ids and entities, seeded randomness, the events
a story is made of, the role of each (attack or context), and the scenario they make."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from riskstream.simulation.event import Kind, Role, SimEvent
from riskstream.simulation.scenarios.model import (
    FEEDBACK,
    HOUR,
    SECOND,
    Scenario,
    day_start,
    event_order,
)

# The share of fraud instances told in a variant that evades the rule written for them.
EVASIVE_SHARE = 0.15


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def money(value: float) -> Decimal:
    """An amount as the events carry it: two decimals, at least 0.01."""
    return Decimal(f"{max(value, 0.01):.2f}")


class ScenarioBuilderBase:
    """What every story is told with: fresh entity and event ids, seeded randomness,
    the events and their roles, and the scenario made of them.

    The stories themselves are in the mixins of the rule families, each a subclass of
    this; :class:`~riskstream.simulation.scenarios.ScenarioBuilder` is all of them.
    """

    def __init__(
        self, base: datetime, seed: int = 7, prefix: str = "sc", evasive: bool = True
    ) -> None:
        if base.tzinfo is None:
            raise ValueError("base must be a zone-aware datetime")
        self.base = _ms(base)
        self.seed = seed
        self.prefix = f"{prefix}{seed}"
        self.rng = random.Random(seed)
        self.evasive = evasive  # False: every fraud told over its rule's thresholds
        self._serial = 0
        self._ip_offset = zlib.crc32(self.prefix.encode()) & 0xFFFFFF
        self._events: list[SimEvent] = []
        self._role: Role = "attack"  # of the events made now
        self._roles: dict[str, Role] = {}  # event id -> role, of the story being made
        self._variant = ""  # of the story being made
        self._may_alert = False
        self._evades = False

    # -- variants ------------------------------------------------------------------------

    def variant(self, *names: str) -> str:
        """Draw the telling of the story being made, from the seed; it goes on the
        scenario (and on the labels) as ``variant``."""
        self._variant = self.rng.choice(names)
        return self._variant

    def evading(self, name: str) -> bool:
        """For a fraud: whether this one is told as ``name``, the variant that stays just
        under the rule's thresholds or outside its window (drawn for
        :data:`EVASIVE_SHARE` of the instances). The fraud is no less real: the rule
        misses it, a score that weighs the evidence may not."""
        drawn = self.rng.random()  # drawn either way: the other draws stay the same
        if not self.evasive or drawn >= EVASIVE_SHARE:
            return False
        self._variant, self._evades = name, True
        return True

    def look_alike(self, near: tuple[str, ...], hard: tuple[str, ...]) -> str:
        """For a look-alike: draw its telling, a ``near`` miss (built to stay under the
        rule's thresholds) or a ``hard`` negative (legitimate behaviour that crosses
        them: the pack may alert on it, and the backtest counts it)."""
        self._variant = self.rng.choice((*near, *hard))
        self._may_alert = self._variant in hard
        return self._variant

    def sized(self, value: float, rounded: bool, step: int = 100) -> float:
        """An amount as people pick it (a multiple of ``step``) or as it falls."""
        return float(max(step, round(value / step) * step)) if rounded else value

    # -- ids and entities --------------------------------------------------------------

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def _id(self, kind: str) -> str:
        return f"{self.prefix}-{kind}-{self._next():05d}"

    def account(self) -> str:
        return self._id("acct")

    def device(self) -> str:
        return self._id("dev")

    def instrument(self, kind: str = "card") -> str:
        return self._id(kind)

    def merchant(self) -> str:
        return self._id("merch")

    def ip(self) -> str:
        value = (self._ip_offset + self._next()) & 0xFFFFFF
        return f"10.{value >> 16}.{(value >> 8) & 0xFF}.{value & 0xFF}"

    # -- roles -------------------------------------------------------------------------

    @contextmanager
    def context(self) -> Iterator[None]:
        """The events made inside are the story's context, not the fraud itself."""
        previous, self._role = self._role, "context"
        try:
            yield
        finally:
            self._role = previous

    def mark_attack(self, *payloads: dict[str, Any]) -> None:
        """Events made as context that turn out to be the fraud (picked afterwards)."""
        for payload in payloads:
            self._roles[str(payload["event_id"])] = "attack"

    def _made(self, kind: Kind, payload: dict[str, Any], role: Role) -> None:
        self._events.append(SimEvent(kind, payload))
        self._roles[str(payload["event_id"])] = role

    # -- events ------------------------------------------------------------------------

    def txn(
        self,
        account: str,
        at: datetime,
        amount: Decimal | float,
        type: str = "payment",
        **fields: Any,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self._id("tx"),
            "type": type,
            "occurred_at": _ms(at),
            "account_id": account,
            "amount": amount if isinstance(amount, Decimal) else money(amount),
            "currency": "CNY",
            "status": "succeeded",
            **{key: value for key, value in fields.items() if value is not None},
        }
        self._made("transaction", payload, self._role)
        return payload

    def account_event(self, account: str, at: datetime, type: str, **fields: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self._id("ae"),
            "type": type,
            "occurred_at": _ms(at),
            "account_id": account,
            **{key: value for key, value in fields.items() if value is not None},
        }
        self._made("account_event", payload, self._role)
        return payload

    def feedback(
        self, sale: dict[str, Any], at: datetime, label: str, source: str = "chargeback"
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self._id("fb"),
            "type": "feedback",
            "target_event_id": sale["event_id"],
            "label": label,
            "occurred_at": _ms(at),
            "account_id": sale["account_id"],
            "counterparty_id": sale["counterparty_id"],
            "source": source,
        }
        # A report belongs with what it reports on: fraud feedback on a fraudulent sale
        # is part of the attack, on an ordinary sale part of the context.
        self._made(FEEDBACK, payload, self._roles.get(str(sale["event_id"]), self._role))
        return payload

    def _scenario(
        self,
        rule_id: str,
        positive: bool,
        entity_type: str,
        entity_id: str,
        also: frozenset[str] = frozenset(),
    ) -> Scenario:
        label = rule_id if positive else f"negative:{rule_id}"
        roles = self._roles
        events = sorted(
            (
                replace(
                    event,
                    scenario=label,
                    role=roles[str(event.payload["event_id"])] if positive else "context",
                )
                for event in self._events
            ),
            key=event_order,
        )
        variant, may_alert = self._variant, self._may_alert and not positive
        evades = self._evades and positive
        self._events, self._roles, self._variant = [], {}, ""
        self._may_alert = self._evades = False
        return Scenario(rule_id, positive, events, entity_type, entity_id, also, variant,
                        may_alert, evades)  # fmt: skip

    # -- time ----------------------------------------------------------------------------

    def jitter(self, low: float, high: float) -> timedelta:
        return timedelta(seconds=self.rng.uniform(low, high))

    @property
    def day_end(self) -> datetime:
        """Where a story that must stay on one UTC day ends: ``base``, or just before
        midnight when ``base`` is in the first hour of its day.

        Day-based rules (dormancy, the amount baseline) judge by UTC day; a story that
        straddled midnight would be judged by halves.
        """
        midnight = day_start(self.base)
        return self.base if self.base - midnight >= HOUR else midnight - SECOND
