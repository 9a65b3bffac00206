"""The long-horizon stories, which need days to months of history: the dormant
account, the amount spike, the merchant's fraud rate."""

from __future__ import annotations

from riskstream.simulation.scenarios.builder import ScenarioBuilderBase, money
from riskstream.simulation.scenarios.model import DAY, MINUTE, Scenario, day_start


class LongHorizonStories(ScenarioBuilderBase):
    """dormant_account, amount.spike, merchant.fraud_rate: each story and its look-alike."""

    def dormant_account(self, positive: bool) -> Scenario:
        account = self.account()
        shop = self.merchant()
        # Known for about half a year, silent for the last 100+ days.
        at = self.base - self.rng.randint(180, 220) * DAY
        with self.context():
            for _ in range(self.rng.randint(3, 6)):
                self.txn(
                    account, at, self.rng.uniform(20, 300), counterparty_id=shop, channel="app"
                )
                at += self.jitter(2 * 86_400, 12 * 86_400)
        start = self.day_end - 40 * MINUTE
        device = self.device()
        if positive and self.evading("under_the_floor"):
            # Back after months: two withdrawals just under 1000 each.
            for _ in range(2):
                start += self.jitter(60, 600)
                self.txn(account, start, self.rng.uniform(800, 990), "withdrawal",
                         channel="app", device_id=device,
                         instrument_id=self.instrument("bank"))  # fmt: skip
        elif positive:
            # Back after months: the balance leaves, in one withdrawal to a new bank
            # account or in two or three transfers to new payees.
            if self.variant("one_withdrawal", "split_transfers") == "split_transfers":
                for _ in range(self.rng.randint(2, 3)):
                    start += self.jitter(60, 600)
                    self.txn(account, start, self.rng.uniform(1100, 1600), "transfer",
                             counterparty_id=self.account(), channel="app",
                             device_id=device)  # fmt: skip
            else:
                self.txn(
                    account,
                    start,
                    float(self.rng.randrange(1500, 4500)),
                    "withdrawal",
                    channel="app",
                    device_id=device,
                    instrument_id=self.instrument("bank"),
                )
        elif self.look_alike(("returns_small",), ("returns_for_big_buy",)) == "returns_for_big_buy":
            # A customer back after months to pay for something big with the balance
            # left: a sofa, a deposit.
            self.txn(account, start, self.rng.uniform(1500, 5000), counterparty_id=shop,
                     channel="app", device_id=device)  # fmt: skip
        else:
            # A returning customer who starts small.
            for _ in range(2):
                start += self.jitter(60, 600)
                self.txn(
                    account,
                    start,
                    self.rng.uniform(30, 300),
                    counterparty_id=shop,
                    channel="app",
                    device_id=device,
                )
        return self._scenario("dormant_account", positive, "account", account)

    def amount_spike(self, positive: bool) -> Scenario:
        account = self.account()
        shops = [self.merchant() for _ in range(3)]
        device = self.device()
        today = day_start(self.day_end)
        if positive and self.evading("eight_times"):
            variant = "eight_times"
        elif positive:
            variant = self.variant("transfer_new_payee", "withdrawal_round")
        else:
            variant = self.look_alike(("big_purchase",), ("car_deposit", "rent_transfer"))
        days = self.rng.sample(range(1, 26), self.rng.randint(7, 12))
        low, high = (150.0, 350.0) if variant in ("big_purchase", "eight_times") else (40.0, 150.0)
        amounts = [self.rng.uniform(low, high) for _ in days]
        with self.context():  # the baseline: weeks of ordinary tickets
            for day, amount in zip(sorted(days, reverse=True), amounts, strict=True):
                at = today - day * DAY + self.jitter(8 * 3600, 20 * 3600)
                self.txn(
                    account,
                    at,
                    amount,
                    counterparty_id=self.rng.choice(shops),
                    channel="app",
                    device_id=device,
                )
        mean = sum(float(money(amount)) for amount in amounts) / len(amounts)
        at = self.day_end - 10 * MINUTE
        if variant == "eight_times":
            # Six to eight and a half times the usual, to a new payee: under the rule's 10.
            amount = mean * self.rng.uniform(6, 8.5)
            self.txn(account, at, amount, "transfer", counterparty_id=self.account(),
                     channel="app", device_id=device)  # fmt: skip
        elif variant == "transfer_new_payee":
            # Twenty times the usual ticket, to a payee never seen before.
            amount = min(max(1000.0, mean * self.rng.uniform(15, 25)), 4500.0)
            self.txn(account, at, amount, "transfer", counterparty_id=self.account(),
                     channel="app", device_id=device)  # fmt: skip
        elif variant == "withdrawal_round":
            # The same, withdrawn to a bank account, a round sum.
            amount = self.sized(min(max(1000.0, mean * self.rng.uniform(15, 25)), 4500.0), True)
            self.txn(account, at, amount, "withdrawal", channel="app", device_id=device,
                     instrument_id=self.instrument("bank"))  # fmt: skip
        elif variant == "car_deposit":
            # A one-off: the deposit on a car, fifteen to forty times the usual ticket.
            amount = self.sized(max(1000.0, mean * self.rng.uniform(15, 40)), True)
            self.txn(account, at, amount, counterparty_id=shops[0], channel="app",
                     device_id=device)  # fmt: skip
        elif variant == "rent_transfer":
            # The first month's rent and deposit to a new landlord.
            amount = self.sized(max(1000.0, mean * self.rng.uniform(12, 30)), True)
            self.txn(account, at, amount, "transfer", counterparty_id=self.account(),
                     channel="app", device_id=device)  # fmt: skip
        else:
            # A big but plausible purchase: over 1000, four to six times the usual.
            amount = max(1000.0, mean * self.rng.uniform(4, 6))
            self.txn(account, at, amount, counterparty_id=shops[0], channel="app", device_id=device)
        return self._scenario("amount.spike", positive, "account", account)

    def merchant_fraud_rate(self, positive: bool) -> Scenario:
        shop = self.merchant()
        reported = 0  # fraud reports, for a fraud that evades: two so far
        if positive and self.evading("two_reports_so_far"):
            web, sales_count, reported = False, self.rng.randint(35, 45), 2
        elif positive:
            # A merchant selling for fraudsters: a shop in the app, or a small web shop.
            web = self.variant("app_shop", "small_web_shop") == "small_web_shop"
            sales_count = self.rng.randint(20, 28) if web else self.rng.randint(35, 45)
        else:
            variant = self.look_alike(("unlucky", "busy_shop"), ("friendly_fraud_claims",))
            web = False
            sales_count = self.rng.randint(70, 90) if variant == "busy_shop" else (
                self.rng.randint(35, 45))  # fmt: skip
        with self.context():  # the merchant's sales; the fraudulent ones are picked below
            sales = [
                self.txn(
                    self.account(),
                    self.base - self.jitter(1.2 * 86_400, 6 * 86_400),
                    self.rng.uniform(30, 400),
                    counterparty_id=shop,
                    channel="web" if web else "app",
                )
                for _ in range(sales_count)
            ]
        labelled = self.rng.sample(sales, 5)
        # Chargebacks and analyst verdicts arrive days after the payments.
        if positive:
            for sale in labelled[: reported or (3 if web else self.rng.randint(3, 4))]:
                self.mark_attack(sale)  # a fraudulent sale; its chargeback is attack too
                self.feedback(
                    sale,
                    self.base - self.jitter(60, 12 * 3600),
                    "fraud",
                    self.rng.choice(["chargeback", "analyst", "customer"]),
                )
        elif variant == "friendly_fraud_claims":
            # Three customers deny purchases they made ("friendly fraud"): reported as
            # fraud, at a shop that did nothing wrong.
            for sale in labelled[:3]:
                self.feedback(sale, self.base - self.jitter(60, 12 * 3600), "fraud", "customer")
        else:
            # Two frauds (three at a busy shop, under 5% of its sales) and a few cleared
            # disputes: bad luck, not a bad merchant.
            frauds = 3 if variant == "busy_shop" else 2
            for index, sale in enumerate(labelled):
                self.feedback(
                    sale,
                    self.base - self.jitter(60, 12 * 3600),
                    "fraud" if index < frauds else "legit",
                    "analyst",
                )
        return self._scenario("merchant.fraud_rate", positive, "merchant", shop)
