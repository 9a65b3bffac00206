"""The mule stories: money fanned in, money fanned out, red packet collusion."""

from __future__ import annotations

from decimal import Decimal

from riskstream.simulation.scenarios.builder import ScenarioBuilderBase
from riskstream.simulation.scenarios.model import HOUR, MINUTE, Scenario


class MuleStories(ScenarioBuilderBase):
    """mule.fan_in, mule.fan_out, red_packet.collusion: each story and its look-alike."""

    def mule_fan_in(self, positive: bool) -> Scenario:
        receiver = self.account()
        at = self.base - 55 * MINUTE
        inflow = Decimal(0)
        if positive:
            # Six victims (or placers) pay one account; most of it leaves at once.
            for _ in range(self.rng.randint(5, 6)):
                at += self.jitter(60, 300)
                sent = self.txn(
                    self.account(),
                    at,
                    self.rng.uniform(1000, 1400),
                    "transfer",
                    counterparty_id=receiver,
                    channel="app",
                )
                inflow += sent["amount"]
            out = min(float(inflow) * self.rng.uniform(0.55, 0.7), 4800.0)
        else:
            # Friends chip in for a shared holiday; the organiser keeps the money.
            for _ in range(self.rng.randint(6, 8)):
                at += self.jitter(60, 300)
                sent = self.txn(
                    self.account(),
                    at,
                    self.rng.uniform(900, 1300),
                    "transfer",
                    counterparty_id=receiver,
                    channel="app",
                )
                inflow += sent["amount"]
            out = self.rng.uniform(200, 1500)
        at += self.jitter(300, 900)
        self.txn(
            receiver, at, out, "withdrawal", channel="app", instrument_id=self.instrument("bank")
        )
        return self._scenario("mule.fan_in", positive, "account", receiver)

    def mule_fan_out(self, positive: bool) -> Scenario:
        sender = self.account()
        device = self.device()
        if positive:
            # Layering: a dozen payees in under an hour, 500-900 each.
            at = self.base - 55 * MINUTE
            for _ in range(self.rng.randint(11, 13)):
                at += self.jitter(190, 240)
                self.txn(
                    sender,
                    at,
                    self.rng.uniform(520, 900),
                    "transfer",
                    counterparty_id=self.account(),
                    channel="app",
                    device_id=device,
                )
        else:
            # Festival red packets to many friends, small amounts, over an hour and a half.
            at = self.base - 95 * MINUTE
            for _ in range(self.rng.randint(12, 16)):
                at += self.jitter(240, 360)
                self.txn(
                    sender,
                    at,
                    self.rng.choice([6.66, 8.88, 16.8, 66.66, 88.88]),
                    "red_packet",
                    counterparty_id=self.account(),
                    channel="app",
                    device_id=device,
                )
        return self._scenario("mule.fan_out", positive, "account", sender)

    def red_packet_collusion(self, positive: bool) -> Scenario:
        sender = self.account()
        device = self.device()
        partners = [self.account() for _ in range(self.rng.randint(2, 3))]
        at = self.base - 20 * HOUR
        if positive:
            # Gambling settled in "gifts": a dozen 100-200 packets to the same two or three.
            amounts = [self.rng.uniform(100, 200) for _ in range(self.rng.randint(11, 14))]
        else:
            # Playful packets between a couple and a friend: many, but small.
            amounts = [self.rng.choice([5.2, 13.14, 20.0, 52.0]) for _ in range(13)]
        for amount in amounts:
            at += self.jitter(30 * 60, 80 * 60)
            self.txn(
                sender,
                at,
                amount,
                "red_packet",
                counterparty_id=self.rng.choice(partners),
                channel="app",
                device_id=device,
            )
        return self._scenario("red_packet.collusion", positive, "account", sender)
