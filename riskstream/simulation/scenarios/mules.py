"""The mule stories: money fanned in, money fanned out, red packet collusion."""

from __future__ import annotations

from decimal import Decimal

from riskstream.simulation.scenarios.builder import ScenarioBuilderBase
from riskstream.simulation.scenarios.model import HOUR, MINUTE, Scenario


class MuleStories(ScenarioBuilderBase):
    """mule.fan_in, mule.fan_out, red_packet.collusion: each story and its look-alikes."""

    def mule_fan_in(self, positive: bool) -> Scenario:
        receiver = self.account()
        at = self.base - 55 * MINUTE
        inflow = Decimal(0)
        channel = "app"
        if positive and self.evading("four_payers"):
            # Four payers only, larger payments.
            for _ in range(4):
                at += self.jitter(60, 300)
                sent = self.txn(self.account(), at, self.rng.uniform(1300, 1700), "transfer",
                                counterparty_id=receiver, channel="app")  # fmt: skip
                inflow += sent["amount"]
            out = float(inflow) * self.rng.uniform(0.6, 0.7)
            at += self.jitter(300, 900)
        elif positive:
            # Victims (or placers) pay one account; most of it leaves at once. Five or six
            # large payments fast, eight to ten smaller ones, or five spread over the hour.
            variant = self.variant("few_large", "many_small", "spread_hour")
            count, low, high, gap = {
                "few_large": (self.rng.randint(5, 6), 1000, 1400, (60, 300)),
                "many_small": (self.rng.randint(8, 10), 650, 900, (60, 200)),
                "spread_hour": (5, 1050, 1400, (360, 540)),
            }[variant]
            if variant == "spread_hour":
                at = self.base - 58 * MINUTE
                channel = "web"
            rounded = self.rng.random() < 0.4
            for _ in range(count):
                at += self.jitter(*gap)
                sent = self.txn(self.account(), at, self.sized(self.rng.uniform(low, high),
                                rounded, 50), "transfer", counterparty_id=receiver,
                                channel="app")  # fmt: skip
                inflow += sent["amount"]
            out = min(float(inflow) * self.rng.uniform(0.55, 0.7), 4800.0)
            at += self.jitter(300, 600) if variant == "spread_hour" else self.jitter(300, 900)
        else:
            variant = self.look_alike(("holiday_fund", "dinner_split"), ("car_deposit_whipround",))
            # Friends chip in for a shared holiday, and the organiser keeps the money; or
            # split a dinner bill; or the family chips in for a car deposit the receiver
            # withdraws to pay the dealer.
            count, low, high, keep = {
                "holiday_fund": (self.rng.randint(6, 8), 900, 1300, (0.03, 0.2)),
                "dinner_split": (self.rng.randint(5, 9), 80, 320, (0.9, 1.0)),
                "car_deposit_whipround": (self.rng.randint(5, 6), 1000, 2500, (0.75, 1.0)),
            }[variant]
            for _ in range(count):
                at += self.jitter(60, 300)
                sent = self.txn(self.account(), at, self.sized(self.rng.uniform(low, high),
                                variant != "holiday_fund", 10), "transfer",
                                counterparty_id=receiver, channel="app")  # fmt: skip
                inflow += sent["amount"]
            out = float(inflow) * self.rng.uniform(*keep)
            if variant == "holiday_fund":
                out = self.rng.uniform(200, 1500)
            at += self.jitter(300, 900)
        self.txn(receiver, at, out, "withdrawal", channel=channel,
                 instrument_id=self.instrument("bank"))  # fmt: skip
        return self._scenario("mule.fan_in", positive, "account", receiver)

    def mule_fan_out(self, positive: bool) -> Scenario:
        sender = self.account()
        device = self.device()
        if positive and self.evading("nine_payees"):
            # Nine payees: one short of the rule.
            at = self.base - 55 * MINUTE
            for _ in range(9):
                at += self.jitter(190, 240)
                self.txn(sender, at, self.rng.uniform(600, 900), "transfer",
                         counterparty_id=self.account(), channel="app",
                         device_id=device)  # fmt: skip
        elif positive:
            # Layering: a dozen payees in under an hour; uneven amounts, or round ones
            # faster, or fewer from a browser, slower.
            variant = self.variant("dozen_uneven", "round_fast", "web_slow")
            count, gap, low, high = {
                "dozen_uneven": (self.rng.randint(11, 13), (190, 240), 520, 900),
                "round_fast": (self.rng.randint(10, 12), (110, 150), 500, 800),
                "web_slow": (self.rng.randint(10, 11), (250, 310), 700, 950),
            }[variant]
            at = self.base - 55 * MINUTE
            for _ in range(count):
                at += self.jitter(*gap)
                amount = (
                    float(self.rng.choice((500, 600, 800)))
                    if variant == "round_fast"
                    else self.rng.uniform(low, high)
                )
                self.txn(sender, at, amount, "transfer", counterparty_id=self.account(),
                         channel="web" if variant == "web_slow" else "app",
                         device_id=device)  # fmt: skip
        else:
            variant = self.look_alike(
                ("festival_red_packets", "new_year_elders"), ("trip_refunds",)
            )
            if variant == "trip_refunds":
                # The group trip is cancelled: the organiser pays back every friend's
                # deposit, 500 to 800 each, within the hour.
                at = self.base - 55 * MINUTE
                for _ in range(self.rng.randint(10, 13)):
                    at += self.jitter(150, 230)
                    self.txn(sender, at, float(self.rng.choice((500, 600, 680, 800))),
                             "transfer", counterparty_id=self.account(), channel="app",
                             device_id=device)  # fmt: skip
            else:
                # Festival red packets to many friends (or 200 each to the elders of the
                # family), small amounts, over an hour and a half.
                elders = variant == "new_year_elders"
                at = self.base - 97 * MINUTE
                for _ in range(self.rng.randint(12, 16)):
                    at += self.jitter(240, 360)
                    amount = 200.0 if elders else self.rng.choice(
                        [6.66, 8.88, 16.8, 66.66, 88.88])  # fmt: skip
                    self.txn(sender, at, amount, "red_packet", counterparty_id=self.account(),
                             channel="app", device_id=device)  # fmt: skip
        return self._scenario("mule.fan_out", positive, "account", sender)

    def red_packet_collusion(self, positive: bool) -> Scenario:
        sender = self.account()
        device = self.device()
        partners = [self.account() for _ in range(self.rng.randint(2, 3))]
        at = self.base - 20 * HOUR
        if positive and self.evading("nine_packets"):
            # Nine packets a day, a little larger.
            amounts = [self.rng.uniform(130, 200) for _ in range(9)]
            gap = (30 * 60, 80 * 60)
        elif positive:
            # Gambling settled in "gifts": a dozen 100-200 packets to the same two or three
            # over the day, or round ones to one or two within two hours.
            if self.variant("over_the_day", "round_two_hours") == "round_two_hours":
                at = self.base - 2 * HOUR
                partners = partners[: self.rng.randint(1, 2)]
                amounts = [float(self.rng.choice((168, 188, 200))) for _ in range(11)]
                gap = (5 * 60, 10 * 60)
            else:
                amounts = [self.rng.uniform(100, 200) for _ in range(self.rng.randint(11, 14))]
                gap = (30 * 60, 80 * 60)
        elif self.look_alike(("playful_small",), ("holiday_family",)) == "holiday_family":
            # A holiday: red packets of 100 to 200 to the parents and a grandparent all
            # day long, each grandchild's greeting answered.
            amounts = [float(self.rng.choice((100, 120, 168, 188, 200))) for _ in range(11)]
            gap = (30 * 60, 80 * 60)
        else:
            # Playful packets between a couple and a friend: many, but small.
            amounts = [self.rng.choice([5.2, 13.14, 20.0, 52.0]) for _ in range(13)]
            gap = (30 * 60, 80 * 60)
        for amount in amounts:
            at += self.jitter(*gap)
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
