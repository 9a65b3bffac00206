"""The account takeover and login stories: the takeover, brute force, credential
stuffing, a device shared by many accounts, and impossible travel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from riskstream.agents.cep.expressions import distance_km
from riskstream.simulation.scenarios.builder import ScenarioBuilderBase
from riskstream.simulation.scenarios.model import CITIES, HOUR, MINUTE, Scenario


class TakeoverAndLoginStories(ScenarioBuilderBase):
    """account_takeover, login.brute_force, login.credential_stuffing,
    device.shared_accounts, impossible_travel: each story and its look-alike.
    """

    def account_takeover(self, positive: bool) -> Scenario:
        account, own_device = self.account(), self.device()
        shop = self.merchant()
        with self.context():  # the owner's ordinary morning
            for hours in (5.0, 3.5):
                self.txn(
                    account,
                    self.base - hours * HOUR + self.jitter(0, 600),
                    self.rng.uniform(20, 150),
                    counterparty_id=shop,
                    channel="app",
                    device_id=own_device,
                )
        bank = self.instrument("bank")
        if positive:
            # Someone else's phone: login, bind the device, reset the password, withdraw.
            intruder, ip = self.device(), self.ip()
            at = self.base - 40 * MINUTE
            self.account_event(account, at, "login", device_id=intruder, ip=ip)
            at += self.jitter(40, 180)
            self.account_event(account, at, "device_bound", device_id=intruder, ip=ip)
            at += self.jitter(40, 180)
            self.account_event(account, at, "password_change", device_id=intruder, ip=ip)
            at += self.jitter(5 * 60, 20 * 60)
            self.txn(
                account,
                at,
                float(self.rng.randrange(800, 4000)),
                "withdrawal",
                channel="app",
                device_id=intruder,
                ip=ip,
                instrument_id=bank,
            )
        else:
            # The owner changes the password, then withdraws an hour or two later.
            at = self.base - 3 * HOUR
            self.account_event(account, at, "password_change", device_id=own_device)
            at += self.jitter(45 * 60, 120 * 60)
            self.txn(
                account,
                at,
                float(self.rng.randrange(600, 2000)),
                "withdrawal",
                channel="app",
                device_id=own_device,
                instrument_id=bank,
            )
        return self._scenario("account_takeover", positive, "account", account)

    def login_brute_force(self, positive: bool) -> Scenario:
        account = self.account()
        if positive:
            device, ip = self.device(), self.ip()
            at = self.base - 15 * MINUTE
            for _ in range(self.rng.randint(6, 9)):
                at += self.jitter(20, 60)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
            at += self.jitter(30, 180)
            self.account_event(account, at, "login", device_id=device, ip=ip)
        else:
            # A customer who mistyped the password a couple of times.
            device, ip = self.device(), self.ip()
            at = self.base - 10 * MINUTE
            for _ in range(self.rng.randint(2, 3)):
                at += self.jitter(10, 40)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
            at += self.jitter(20, 90)
            self.account_event(account, at, "login", device_id=device, ip=ip)
        return self._scenario("login.brute_force", positive, "account", account)

    def credential_stuffing(self, positive: bool) -> Scenario:
        ip = self.ip()
        if positive:
            # A script replays a leaked list from one proxy: one or two tries per account,
            # a few seconds apart, and now and then a password that still works.
            devices = [self.device() for _ in range(2)]
            at = self.base - 12 * MINUTE
            for _ in range(self.rng.randint(12, 18)):
                account, device = self.account(), self.rng.choice(devices)
                for _ in range(self.rng.choice((1, 1, 2))):
                    at += self.jitter(4, 20)
                    self.account_event(account, at, "login_failed", device_id=device, ip=ip)
                if self.rng.random() < 0.15:
                    at += self.jitter(2, 6)
                    self.account_event(account, at, "login", device_id=device, ip=ip)
        else:
            # A campus gateway: eight students mistype their passwords over the hour.
            for _ in range(8):
                account, device = self.account(), self.device()
                at = self.base - self.jitter(60, 55 * 60)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
                at += self.jitter(10, 40)
                self.account_event(account, at, "login", device_id=device, ip=ip)
        # The script's devices each touch many accounts: device.shared_accounts, rightly.
        also = frozenset({"device.shared_accounts"}) if positive else frozenset()
        return self._scenario("login.credential_stuffing", positive, "ip", ip, also)

    def device_shared_accounts(self, positive: bool) -> Scenario:
        device, ip = self.device(), self.ip()
        shop = self.merchant()
        if positive:
            # An emulator in a fraud farm works through its stock of wallets.
            accounts = [self.account() for _ in range(self.rng.randint(6, 8))]
            at = self.base - 3 * HOUR
            for account in accounts:
                at += self.jitter(5 * 60, 20 * 60)
                if self.rng.random() < 0.4:
                    self.account_event(account, at, "login_failed", device_id=device, ip=ip)
                    at += self.jitter(10, 40)
                self.account_event(account, at, "login", device_id=device, ip=ip)
                if self.rng.random() < 0.5:
                    at += self.jitter(30, 120)
                    self.txn(
                        account,
                        at,
                        self.rng.uniform(10, 90),
                        counterparty_id=shop,
                        channel="app",
                        device_id=device,
                        ip=ip,
                    )
        else:
            # A family tablet: three people, logins and shopping through the day.
            accounts = [self.account() for _ in range(3)]
            for account in accounts:
                for _ in range(2):
                    at = self.base - self.jitter(HOUR.total_seconds(), 14 * HOUR.total_seconds())
                    self.account_event(account, at, "login", device_id=device, ip=ip)
                    self.txn(
                        account,
                        at + self.jitter(30, 300),
                        self.rng.uniform(10, 200),
                        counterparty_id=shop,
                        channel="app",
                        device_id=device,
                        ip=ip,
                    )
        return self._scenario("device.shared_accounts", positive, "device", device)

    def impossible_travel(self, positive: bool) -> Scenario:
        account, device = self.account(), self.device()
        shop = self.merchant()
        home, away = self._distant_cities(3000.0)
        distance = distance_km(home[1], home[2], away[1], away[2])
        if positive:
            # Logged in at home, then a payment from another continent within the hour.
            gap = self.jitter(30 * 60, 75 * 60)
        else:
            # A real trip: the payment abroad comes after the flight (at 700 km/h).
            gap = timedelta(hours=distance / 700.0) + self.jitter(HOUR.total_seconds(), 2 * 3600)
        start = self.base - gap - 10 * MINUTE
        with self.context():  # the owner at home; the fraud is the payment from afar
            self.account_event(account, start, "login", device_id=device, geo=self._geo(home))
            self.txn(
                account,
                start + self.jitter(60, 300),
                self.rng.uniform(20, 200),
                counterparty_id=shop,
                channel="app",
                device_id=device,
                geo=self._geo(home),
            )
        self.txn(
            account,
            start + gap,
            self.rng.uniform(20, 300),
            counterparty_id=self.merchant(),
            channel="web",
            geo=self._geo(away),
        )
        return self._scenario("impossible_travel", positive, "account", account)

    def _distant_cities(
        self, at_least_km: float
    ) -> tuple[tuple[str, float, float, str], tuple[str, float, float, str]]:
        while True:
            home, away = self.rng.sample(CITIES, 2)
            if distance_km(home[1], home[2], away[1], away[2]) > at_least_km:
                return home, away

    @staticmethod
    def _geo(city: tuple[str, float, float, str]) -> dict[str, Any]:
        return {"lat": city[1], "lon": city[2], "country": city[3]}
