"""The card and cash stories: card testing, cash-out, structuring."""

from __future__ import annotations

from riskstream.simulation.scenarios.builder import ScenarioBuilderBase
from riskstream.simulation.scenarios.model import DAY, HOUR, MINUTE, Scenario


class CardAndCashStories(ScenarioBuilderBase):
    """card_testing, cash_out, structuring: each story and its look-alike."""

    def card_testing(self, positive: bool) -> Scenario:
        card = self.instrument("card")
        shops = [self.merchant() for _ in range(4)]
        at = self.base - 45 * MINUTE
        if positive and self.evading("four_probes"):
            # Four probes are enough for this tester, then the charge.
            tester, spender = self.account(), self.account()
            device, ip = self.device(), self.ip()
            for _ in range(4):
                at += self.jitter(60, 180)
                self.txn(tester, at, self.rng.uniform(0.5, 9.99),
                         status=self.rng.choice(["succeeded", "failed", "failed"]),
                         counterparty_id=self.rng.choice(shops), channel="app",
                         device_id=device, ip=ip, instrument_id=card)  # fmt: skip
            at += self.jitter(120, 600)
            self.txn(spender, at, float(self.rng.randrange(600, 1500)),
                     counterparty_id=shops[-1], channel="app", device_id=device, ip=ip,
                     instrument_id=card)  # fmt: skip
        elif positive:
            # Throw-away wallets probe a stolen card, then one spends it: two probing
            # wallets fast, or one wallet probing slowly; payments, or top-ups only.
            variant = self.variant("two_wallets_fast", "one_wallet_slow", "top_up_probes")
            slow = variant == "one_wallet_slow"
            testers = [self.account() for _ in range(3)]
            device, ip = self.device(), self.ip()
            at = self.base - 58 * MINUTE if slow else at
            for index in range(5 if slow else self.rng.randint(6, 8)):
                at += self.jitter(300, 480) if slow else self.jitter(60, 180)
                kind = "top_up" if variant == "top_up_probes" else self.rng.choice(
                    ["payment", "top_up"])  # fmt: skip
                self.txn(
                    testers[0] if slow else testers[index % 2],
                    at,
                    self.rng.uniform(0.5, 9.99),
                    kind,
                    status=self.rng.choice(["succeeded", "failed", "failed"]),
                    counterparty_id=self.rng.choice(shops),
                    channel="web" if slow else "app",
                    device_id=device,
                    ip=ip,
                    instrument_id=card,
                )
            at += self.jitter(120, 600)
            self.txn(
                testers[2],
                at,
                self.sized(self.rng.uniform(600, 1500), self.rng.random() < 0.5),
                "top_up" if variant == "top_up_probes" else "payment",
                counterparty_id=shops[-1],
                channel="app",
                device_id=device,
                ip=ip,
                instrument_id=card,
            )
        elif (
            self.look_alike(("coffee_then_big",), ("transit_then_flight",)) == "transit_then_flight"
        ):
            # The card's owner rides the metro and buses all morning (five to seven fares
            # under 10 on the card), then books a flight: the shape of card testing.
            account, device = self.account(), self.device()
            at = self.base - 55 * MINUTE
            for _ in range(self.rng.randint(5, 7)):
                at += self.jitter(150, 300)
                self.txn(account, at, float(self.rng.choice((2, 3, 4, 5, 6))),
                         counterparty_id=shops[0], channel="pos", device_id=self.device(),
                         instrument_id=card)  # fmt: skip
            at += self.jitter(120, 600)
            self.txn(account, at, self.rng.uniform(600, 2400), counterparty_id=shops[-1],
                     channel="app", device_id=device, instrument_id=card)  # fmt: skip
        else:
            # The card's owner: coffee, parking, then a large purchase the same hour.
            account, device = self.account(), self.device()
            for _ in range(self.rng.randint(2, 4)):
                at += self.jitter(120, 600)
                self.txn(
                    account,
                    at,
                    self.rng.uniform(3, 9.99),
                    counterparty_id=self.rng.choice(shops),
                    channel="pos",
                    device_id=device,
                    instrument_id=card,
                )
            at += self.jitter(120, 600)
            self.txn(
                account,
                at,
                float(self.rng.randrange(600, 1500)),
                counterparty_id=shops[-1],
                channel="app",
                device_id=device,
                instrument_id=card,
            )
        return self._scenario("card_testing", positive, "instrument", card)

    def cash_out(self, positive: bool) -> Scenario:
        account, device = self.account(), self.device()
        card = self.instrument("card")
        if positive and self.evading("after_the_hour"):
            # Loaded, and out again just after the hour.
            amount = float(self.rng.randrange(1500, 4500))
            at = self.base - 95 * MINUTE
            self.txn(account, at, amount, "top_up", channel="app", device_id=device,
                     instrument_id=card)  # fmt: skip
            at += self.jitter(65 * 60, 90 * 60)
            self.txn(account, at, amount * self.rng.uniform(0.85, 1.0), "withdrawal",
                     channel="app", device_id=device,
                     instrument_id=self.instrument("bank"))  # fmt: skip
            return self._scenario("cash_out", positive, "account", account)
        elif positive:
            # Loaded from a card (or someone else's bank account), out to a bank account
            # within the hour: pass-through, fast in the app or slower in a browser.
            variant = self.variant("card_fast", "bank_slow_web")
            slow = variant == "bank_slow_web"
            source = self.instrument("bank") if slow else card
            amount = self.sized(self.rng.uniform(1500, 4500), self.rng.random() < 0.6)
            at = self.base - 58 * MINUTE
            channel = "web" if slow else "app"
            self.txn(account, at, amount, "top_up", channel=channel, device_id=device,
                     instrument_id=source)  # fmt: skip
            at += self.jitter(35 * 60, 55 * 60) if slow else self.jitter(10 * 60, 40 * 60)
            self.txn(account, at, amount * self.rng.uniform(0.85, 1.0), "withdrawal",
                     channel=channel, device_id=device,
                     instrument_id=self.instrument("bank"))  # fmt: skip
            return self._scenario("cash_out", positive, "account", account)
        amount = float(self.rng.randrange(1500, 4500))
        at = self.base - 55 * MINUTE
        self.txn(account, at, amount, "top_up", channel="app", device_id=device, instrument_id=card)
        at += self.jitter(10 * 60, 40 * 60)
        if self.look_alike(("reversal_to_card",), ("back_to_own_bank",)) == "back_to_own_bank":
            # The purchase it was for fell through: the money goes to the customer's own
            # bank account (not the card that paid it in), most of it at once.
            self.txn(account, at, amount * self.rng.uniform(0.85, 1.0), "withdrawal",
                     channel="app", device_id=device,
                     instrument_id=self.instrument("bank"))  # fmt: skip
        else:
            # A change of mind: the whole top-up goes back to the card that paid it.
            self.txn(
                account,
                at,
                amount,
                "withdrawal",
                channel="app",
                device_id=device,
                instrument_id=card,
            )
        return self._scenario("cash_out", positive, "account", account)

    def structuring(self, positive: bool) -> Scenario:
        account = self.account()
        moments = sorted(self.base - self.jitter(600, 20 * 3600) for _ in range(4))
        kind = "top_up"
        if positive and self.evading("over_two_days"):
            # Three deposits over a day and a half: never three in 24 hours.
            moments = [self.base - h * HOUR - self.jitter(60, 3600) for h in (34, 17, 0)]
            amounts = [self.rng.uniform(9000, 9990) for _ in range(3)]
        elif positive:
            # Just under 10000, three or four times a day: deposits over the day, or
            # withdrawals within two hours, or transfers to a few payees.
            variant = self.variant("deposits_day", "withdrawals_fast", "transfers_day")
            if variant == "withdrawals_fast":
                # Half an hour or so apart: never three in ten minutes (velocity).
                moments = [self.base - slot * 30 * MINUTE - self.jitter(60, 600)
                           for slot in (3, 2, 1, 0)]  # fmt: skip
            kind = {"deposits_day": "top_up", "withdrawals_fast": "withdrawal",
                    "transfers_day": "transfer"}[variant]  # fmt: skip
            amounts = [self.rng.uniform(9000, 9990) for _ in range(self.rng.randint(3, 4))]
        else:
            variant = self.look_alike(("one_over", "takings_over_days"), ("tuition_transfers",))
            if variant == "takings_over_days":
                # A shopkeeper banks each week's takings, just under 10000 by chance,
                # on three different days.
                moments = [self.base - day * DAY - self.jitter(600, 3 * 3600)
                           for day in (4, 2, 0)]  # fmt: skip
                amounts = [self.rng.uniform(9000, 9990) for _ in range(3)]
            elif variant == "tuition_transfers":
                # A parent pays three children's term fees, 9,500 to 9,800 each, the day
                # the school's invoices arrive.
                kind = "transfer"
                amounts = [float(self.rng.choice((9500, 9600, 9800))) for _ in range(3)]
            else:
                # One deposit under the threshold twice, the third well over it (reported).
                amounts = [
                    self.rng.uniform(9000, 9990),
                    self.rng.uniform(9000, 9990),
                    self.rng.uniform(10_500, 14_000),
                ]
                self.rng.shuffle(amounts)
        for at, amount in zip(moments, amounts, strict=False):
            if kind == "top_up":
                self.txn(account, at, amount, "top_up",
                         channel=self.rng.choice(["app", "web"]),
                         instrument_id=self.instrument("bank"))  # fmt: skip
            elif kind == "withdrawal":
                self.txn(account, at, amount, "withdrawal", channel="app",
                         instrument_id=self.instrument("bank"))  # fmt: skip
            else:
                self.txn(account, at, amount, "transfer", channel=self.rng.choice(["app", "web"]),
                         counterparty_id=self.account())  # fmt: skip
        return self._scenario("structuring", positive, "account", account)
