"""The card and cash stories: card testing, cash-out, structuring."""

from __future__ import annotations

from riskstream.simulation.scenarios.builder import ScenarioBuilderBase
from riskstream.simulation.scenarios.model import MINUTE, Scenario


class CardAndCashStories(ScenarioBuilderBase):
    """card_testing, cash_out, structuring: each story and its look-alike."""

    def card_testing(self, positive: bool) -> Scenario:
        card = self.instrument("card")
        shops = [self.merchant() for _ in range(4)]
        at = self.base - 45 * MINUTE
        if positive:
            # Two throw-away wallets probe a stolen card, a third spends it.
            testers = [self.account() for _ in range(3)]
            device, ip = self.device(), self.ip()
            for index in range(self.rng.randint(6, 8)):
                at += self.jitter(60, 180)
                self.txn(
                    testers[index % 2],
                    at,
                    self.rng.uniform(0.5, 9.99),
                    self.rng.choice(["payment", "top_up"]),
                    status=self.rng.choice(["succeeded", "failed", "failed"]),
                    counterparty_id=self.rng.choice(shops),
                    channel="app",
                    device_id=device,
                    ip=ip,
                    instrument_id=card,
                )
            at += self.jitter(120, 600)
            self.txn(
                testers[2],
                at,
                float(self.rng.randrange(600, 1500)),
                counterparty_id=shops[-1],
                channel="app",
                device_id=device,
                ip=ip,
                instrument_id=card,
            )
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
        amount = float(self.rng.randrange(1500, 4500))
        at = self.base - 55 * MINUTE
        self.txn(account, at, amount, "top_up", channel="app", device_id=device, instrument_id=card)
        at += self.jitter(10 * 60, 40 * 60)
        if positive:
            # Loaded from a card, out to a bank account within the hour: pass-through.
            self.txn(
                account,
                at,
                amount * self.rng.uniform(0.85, 1.0),
                "withdrawal",
                channel="app",
                device_id=device,
                instrument_id=self.instrument("bank"),
            )
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
        # Deposits, not transfers: one transfer of 9000 alone would be velocity too.
        if positive:
            amounts = [self.rng.uniform(9000, 9990) for _ in range(self.rng.randint(3, 4))]
        else:
            # One deposit under the threshold twice, the third well over it (reported).
            amounts = [
                self.rng.uniform(9000, 9990),
                self.rng.uniform(9000, 9990),
                self.rng.uniform(10_500, 14_000),
            ]
            self.rng.shuffle(amounts)
        for at, amount in zip(moments, amounts, strict=False):
            self.txn(
                account,
                at,
                amount,
                "top_up",
                channel=self.rng.choice(["app", "web"]),
                instrument_id=self.instrument("bank"),
            )
        return self._scenario("structuring", positive, "account", account)
