"""The velocity stories: bursts of payments from one account, one device, one IP."""

from __future__ import annotations

from riskstream.simulation.scenarios.builder import ScenarioBuilderBase
from riskstream.simulation.scenarios.model import MINUTE, Scenario


class VelocityStories(ScenarioBuilderBase):
    """velocity.account, velocity.device, velocity.ip: the burst and its look-alikes."""

    def velocity_account(self, positive: bool) -> Scenario:
        account, device, ip = self.account(), self.device(), self.ip()
        shops = [self.merchant() for _ in range(4)]
        at = self.base - 9 * MINUTE
        if positive and self.evading("nine_in_ten_minutes"):
            # Ten purchases at most in any ten minutes, small: a patient drain.
            at = self.base - 11 * MINUTE
            for _ in range(self.rng.randint(9, 10)):
                at += self.jitter(50, 62)
                self.txn(account, at, self.rng.uniform(15, 120),
                         counterparty_id=self.rng.choice(shops), channel="app",
                         device_id=device, ip=ip)  # fmt: skip
        elif positive:
            variant = self.variant("scripted_small", "round_web", "few_large_transfers")
            if variant == "few_large_transfers":
                # Three to five big transfers to new payees within minutes: over 5000.
                rounded = self.rng.random() < 0.5
                for _ in range(self.rng.randint(3, 5)):
                    at += self.jitter(60, 110)
                    amount = self.sized(self.rng.uniform(1850, 3000), rounded)
                    self.txn(account, at, amount, "transfer", counterparty_id=self.account(),
                             channel="app", device_id=device, ip=ip)  # fmt: skip
            else:
                # A drained account: a scripted burst of small purchases.
                web = variant == "round_web"
                for _ in range(self.rng.randint(12, 16)):
                    at += self.jitter(20, 38) if web else self.jitter(15, 30)
                    amount = (
                        float(self.rng.choice((20, 50, 100, 200)))
                        if web
                        else self.rng.uniform(15, 120)
                    )
                    self.txn(account, at, amount, counterparty_id=self.rng.choice(shops),
                             channel="web" if web else "app", device_id=device, ip=ip)  # fmt: skip
        elif self.look_alike(("busy_shopper",), ("payday_spree",)) == "payday_spree":
            # Payday: the salary comes in, then a new phone, a coat and shoes: over 5000
            # in a few minutes, the first such splurge of the month.
            bank = self.instrument("bank")
            salary = self.sized(self.rng.uniform(9000, 16000), True)
            self.txn(account, at - 2 * MINUTE, salary, "top_up", channel="app",
                     device_id=device, ip=ip, instrument_id=bank)  # fmt: skip
            for low, high in ((3800, 5200), (800, 1500), (500, 900)):
                at += self.jitter(90, 150)
                self.txn(account, at, self.rng.uniform(low, high),
                         counterparty_id=self.rng.choice(shops), channel="app",
                         device_id=device, ip=ip)  # fmt: skip
        else:
            # A busy shopper: a few purchases in ten minutes, far under 5000.
            for _ in range(self.rng.randint(5, 8)):
                at += self.jitter(45, 70)
                self.txn(account, at, self.rng.uniform(20, 250),
                         counterparty_id=self.rng.choice(shops), channel="app",
                         device_id=device, ip=ip)  # fmt: skip
        return self._scenario("velocity.account", positive, "account", account)

    def velocity_device(self, positive: bool) -> Scenario:
        device, ip = self.device(), self.ip()
        shops = [self.merchant() for _ in range(3)]
        at = self.base - 10 * MINUTE
        also: frozenset[str] = frozenset()
        if positive and self.evading("twenty_at_most"):
            # The script keeps to twenty in ten minutes.
            accounts = [self.account() for _ in range(4)]
            for index in range(self.rng.randint(18, 20)):
                at += self.jitter(12, 20)
                self.txn(accounts[index % len(accounts)], at, self.rng.uniform(1, 60),
                         self.rng.choice(["payment", "top_up"]),
                         counterparty_id=self.rng.choice(shops), channel="app",
                         device_id=device, ip=ip)  # fmt: skip
        elif positive:
            # A scripted phone (or browser) cycles through three or four wallets, each
            # under its own limit.
            variant = self.variant("four_wallets_app", "three_wallets_web")
            web = variant == "three_wallets_web"
            accounts = [self.account() for _ in range(3 if web else 4)]
            for index in range(self.rng.randint(22, 25) if web else self.rng.randint(23, 27)):
                at += self.jitter(18, 25) if web else self.jitter(12, 20)
                amount = (
                    float(self.rng.choice((10, 20, 30, 50))) if web else self.rng.uniform(1, 60)
                )
                self.txn(accounts[index % len(accounts)], at, amount,
                         self.rng.choice(["payment", "top_up"]),
                         counterparty_id=self.rng.choice(shops),
                         channel="web" if web else "app", device_id=device, ip=ip)  # fmt: skip
        elif self.look_alike(("shop_terminal",), ("game_purchases",)) == "game_purchases":
            # A teenager buying in-game items on a phone: two dozen small payments in ten
            # minutes (velocity.account sees the same burst).
            player = self.account()
            for _ in range(self.rng.randint(22, 26)):
                at += self.jitter(14, 22)
                self.txn(player, at, float(self.rng.choice((6, 12, 18, 30, 68))),
                         counterparty_id=shops[1], channel="app", device_id=device,
                         ip=ip)  # fmt: skip
            also = frozenset({"velocity.account"})
        else:
            # A shop terminal serving a queue: many customers, one device, channel pos.
            for _ in range(self.rng.randint(24, 30)):
                at += self.jitter(12, 20)
                self.txn(self.account(), at, self.rng.uniform(5, 200),
                         counterparty_id=shops[0], channel="pos", device_id=device,
                         ip=ip)  # fmt: skip
        return self._scenario("velocity.device", positive, "device", device, also)

    def velocity_ip(self, positive: bool) -> Scenario:
        ip = self.ip()
        shops = [self.merchant() for _ in range(5)]
        if positive and self.evading("thirty_at_most"):
            # The farm keeps to thirty in ten minutes.
            farm = [(self.account(), self.device()) for _ in range(6)]
            at = self.base - 10 * MINUTE
            for index in range(self.rng.randint(27, 30)):
                at += self.jitter(10, 15)
                account, device = farm[index % len(farm)]
                self.txn(account, at, self.rng.uniform(1, 80),
                         counterparty_id=self.rng.choice(shops), channel="app",
                         device_id=device, ip=ip)  # fmt: skip
        elif positive:
            # An account farm behind one proxy: six to eight wallets on their own devices.
            variant = self.variant("six_wallets_app", "eight_wallets_web")
            web = variant == "eight_wallets_web"
            farm = [(self.account(), self.device()) for _ in range(8 if web else 6)]
            at = self.base - 10 * MINUTE
            for index in range(self.rng.randint(32, 36) if web else self.rng.randint(33, 38)):
                at += self.jitter(14, 18) if web else self.jitter(10, 15)
                account, device = farm[index % len(farm)]
                amount = float(self.rng.choice((10, 20, 50))) if web else self.rng.uniform(1, 80)
                self.txn(account, at, amount, counterparty_id=self.rng.choice(shops),
                         channel="web" if web else "app", device_id=device, ip=ip)  # fmt: skip
        elif self.look_alike(("office_wifi",), ("canteen_lunch",)) == "canteen_lunch":
            # The canteen at noon: thirty colleagues pay by QR code over the office Wi-Fi
            # within ten minutes.
            office = [(self.account(), self.device()) for _ in range(30)]
            at = self.base - 10 * MINUTE
            for account, device in office + office[: self.rng.randint(3, 8)]:
                at += self.jitter(10, 17)
                self.txn(account, at, self.rng.uniform(12, 45), counterparty_id=shops[0],
                         channel="app", device_id=device, ip=ip)  # fmt: skip
        else:
            # Office Wi-Fi: a dozen colleagues paying through one address all morning.
            office = [(self.account(), self.device()) for _ in range(12)]
            for _ in range(40):
                account, device = self.rng.choice(office)
                at = self.base - self.jitter(60, 55 * 60)
                self.txn(account, at, self.rng.uniform(8, 90),
                         counterparty_id=self.rng.choice(shops), channel="web",
                         device_id=device, ip=ip)  # fmt: skip
        return self._scenario("velocity.ip", positive, "ip", ip)
