"""Labelled fraud scenarios: for every rule of the default pack, a case and a near miss.

Each scenario is a short, realistic story told in contract-v1 events: the positive one
is the fraud the rule is written for; the negative one is a legitimate look-alike.
Every story draws its telling (:attr:`Scenario.variant`) from the seed: a fraud varies
its amounts, tempo, order of steps, channel and number of entities, clearly over the
rule's thresholds, except for the share told in the variant that evades the rule
(:attr:`Scenario.evades`, drawn for :data:`.builder.EVASIVE_SHARE` of them); a
look-alike is a near miss the rule must stay silent on, or a hard negative
(:attr:`Scenario.may_alert`): legitimate behaviour over the thresholds, which the pack
alerts on and the backtest counts as false alarms. Every
scenario gets its own accounts, devices, IPs, instruments and merchants, so any number
of them can be mixed into one stream without one seeing another's events; built from
the same seed and base time, the scenarios are the same, event ids included.

All events of a scenario happen at or before ``base``. The long-horizon rules need
history: the amount spike looks back up to 25 days, the dormant account is known for
more than 100 days. Within one scenario, events are in event-time order.

The scenarios are written not to trip any other rule of the pack; where a story cannot
avoid it (a fraud, or a hard negative), the other rule ids are listed in
:attr:`Scenario.also`.

Every event has a role (:attr:`SimEvent.role`). In a positive story, ``attack`` marks
the fraud itself: the fraudster's actions (the probes and the charge of card testing,
the takeover from the intruder's login to the withdrawal, a mule's inflows and outflow,
the payment from the far city, the spike, a merchant's fraudulent sales) and the reports
of them (feedback takes the role of the sale it judges); ``context`` marks what the
story needs around it and that is no fraud by itself: the victim's ordinary history,
the dormant account's old activity, the weeks of baseline before a spike, the login and
payment at home before the impossible one, the merchant's normal sales. A generator
makes context inside ``with self.context():``. A look-alike has no fraud in it: every
one of its events is context.

One idea per module:

- :mod:`.model`: the scenario, the time units, the cities, the order of a stream;
- :mod:`.builder`: ids, seeded randomness, the events of a story and their roles;
- :mod:`.velocity`: the velocity stories;
- :mod:`.logins`: account takeover, logins, shared devices, impossible travel;
- :mod:`.cards_and_cash`: card testing, cash-out, structuring;
- :mod:`.mules`: mules fanning money in and out, red packet collusion;
- :mod:`.long_horizons`: the dormant account, the amount spike, the merchant's fraud
  rate;

and here, :class:`ScenarioBuilder` (all the stories, by rule id) and :func:`build_all`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from riskstream.simulation.scenarios.cards_and_cash import CardAndCashStories
from riskstream.simulation.scenarios.logins import TakeoverAndLoginStories
from riskstream.simulation.scenarios.long_horizons import LongHorizonStories
from riskstream.simulation.scenarios.model import (
    CITIES,
    DAY,
    FEEDBACK,
    HOUR,
    MINUTE,
    SECOND,
    Scenario,
    day_start,
    event_order,
    pack_rule_ids,
    stream,
)
from riskstream.simulation.scenarios.mules import MuleStories
from riskstream.simulation.scenarios.velocity import VelocityStories

__all__ = [
    "CITIES",
    "DAY",
    "FEEDBACK",
    "HOUR",
    "MINUTE",
    "SECOND",
    "Scenario",
    "ScenarioBuilder",
    "build_all",
    "day_start",
    "event_order",
    "pack_rule_ids",
    "stream",
]


class ScenarioBuilder(
    VelocityStories,
    TakeoverAndLoginStories,
    CardAndCashStories,
    MuleStories,
    LongHorizonStories,
):
    """Makes scenarios with fresh entity and event ids, all seeded."""

    def generators(self) -> dict[str, Callable[[bool], Scenario]]:
        return {
            "velocity.account": self.velocity_account,
            "velocity.device": self.velocity_device,
            "velocity.ip": self.velocity_ip,
            "account_takeover": self.account_takeover,
            "card_testing": self.card_testing,
            "cash_out": self.cash_out,
            "structuring": self.structuring,
            "mule.fan_in": self.mule_fan_in,
            "mule.fan_out": self.mule_fan_out,
            "impossible_travel": self.impossible_travel,
            "device.shared_accounts": self.device_shared_accounts,
            "login.brute_force": self.login_brute_force,
            "login.credential_stuffing": self.credential_stuffing,
            "dormant_account": self.dormant_account,
            "red_packet.collusion": self.red_packet_collusion,
            "amount.spike": self.amount_spike,
            "merchant.fraud_rate": self.merchant_fraud_rate,
        }

    def build(self, rule_id: str, positive: bool) -> Scenario:
        return self.generators()[rule_id](positive)


def build_all(
    base: datetime, seed: int = 7, prefix: str = "sc", evasive: bool = True
) -> list[Scenario]:
    """One positive and one negative scenario per rule of the default pack; with
    ``evasive=False`` no fraud is told in its variant that evades the rule (for tests
    that every rule fires), the rest of the draws unchanged.

    Raises when the pack has a rule this library has no story for (or the reverse).
    """
    builder = ScenarioBuilder(base, seed, prefix, evasive)
    generators = builder.generators()
    missing = pack_rule_ids() ^ set(generators)
    if missing:
        raise LookupError(f"no scenarios for, or no pack rule for: {sorted(missing)}")
    return [
        generator(positive)
        for _, generator in sorted(generators.items())
        for positive in (True, False)
    ]
