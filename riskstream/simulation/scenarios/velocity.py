"""The velocity stories: bursts of payments from one account, one device, one IP."""

from __future__ import annotations

from riskstream.simulation.scenarios.builder import ScenarioBuilderBase
from riskstream.simulation.scenarios.model import MINUTE, Scenario


class VelocityStories(ScenarioBuilderBase):
    """velocity.account, velocity.device, velocity.ip: the burst and its look-alike."""

    def velocity_account(self, positive: bool) -> Scenario:
        account, device, ip = self.account(), self.device(), self.ip()
        shops = [self.merchant() for _ in range(4)]
        at = self.base - 9 * MINUTE
        if positive:
            # A drained account: a scripted burst of small purchases, ~20 s apart.
            for _ in range(self.rng.randint(13, 16)):
                at += self.jitter(15, 30)
                self.txn(
                    account,
                    at,
                    self.rng.uniform(15, 120),
                    counterparty_id=self.rng.choice(shops),
                    channel="app",
                    device_id=device,
                    ip=ip,
                )
        else:
            # A busy shopper: a few purchases in ten minutes, far under 5000.
            for _ in range(self.rng.randint(5, 8)):
                at += self.jitter(45, 70)
                self.txn(
                    account,
                    at,
                    self.rng.uniform(20, 250),
                    counterparty_id=self.rng.choice(shops),
                    channel="app",
                    device_id=device,
                    ip=ip,
                )
        return self._scenario("velocity.account", positive, "account", account)

    def velocity_device(self, positive: bool) -> Scenario:
        device, ip = self.device(), self.ip()
        shops = [self.merchant() for _ in range(3)]
        at = self.base - 10 * MINUTE
        if positive:
            # A scripted phone cycles through four wallets, each under its own limit.
            accounts = [self.account() for _ in range(4)]
            for index in range(self.rng.randint(23, 27)):
                at += self.jitter(12, 20)
                self.txn(
                    accounts[index % len(accounts)],
                    at,
                    self.rng.uniform(1, 60),
                    self.rng.choice(["payment", "top_up"]),
                    counterparty_id=self.rng.choice(shops),
                    channel="app",
                    device_id=device,
                    ip=ip,
                )
        else:
            # A shop terminal serving a queue: many customers, one device, channel pos.
            shop = shops[0]
            for _ in range(self.rng.randint(24, 30)):
                at += self.jitter(12, 20)
                self.txn(
                    self.account(),
                    at,
                    self.rng.uniform(5, 200),
                    counterparty_id=shop,
                    channel="pos",
                    device_id=device,
                    ip=ip,
                )
        return self._scenario("velocity.device", positive, "device", device)

    def velocity_ip(self, positive: bool) -> Scenario:
        ip = self.ip()
        shops = [self.merchant() for _ in range(5)]
        if positive:
            # An account farm behind one proxy: six wallets on six devices, one address.
            farm = [(self.account(), self.device()) for _ in range(6)]
            at = self.base - 10 * MINUTE
            for index in range(self.rng.randint(33, 38)):
                at += self.jitter(10, 15)
                account, device = farm[index % len(farm)]
                self.txn(
                    account,
                    at,
                    self.rng.uniform(1, 80),
                    counterparty_id=self.rng.choice(shops),
                    channel="app",
                    device_id=device,
                    ip=ip,
                )
        else:
            # Office Wi-Fi: a dozen colleagues paying through one address all morning.
            office = [(self.account(), self.device()) for _ in range(12)]
            for _ in range(40):
                account, device = self.rng.choice(office)
                at = self.base - self.jitter(60, 55 * 60)
                self.txn(
                    account,
                    at,
                    self.rng.uniform(8, 90),
                    counterparty_id=self.rng.choice(shops),
                    channel="web",
                    device_id=device,
                    ip=ip,
                )
        return self._scenario("velocity.ip", positive, "ip", ip)
