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
        if positive and self.evading("waits_out_the_window"):
            # The intruder takes the account over, then waits over half an hour to
            # withdraw: out of the sequence's window.
            intruder, ip = self.device(), self.ip()
            at = self.base - 75 * MINUTE
            self.account_event(account, at, "login", device_id=intruder, ip=ip)
            for step in ("device_bound", "password_change"):
                at += self.jitter(40, 180)
                self.account_event(account, at, step, device_id=intruder, ip=ip)
            at += self.jitter(35 * 60, 60 * 60)
            self.txn(account, at, float(self.rng.randrange(800, 4000)), "withdrawal",
                     channel="app", device_id=intruder, ip=ip, instrument_id=bank)  # fmt: skip
        elif positive:
            # Someone else's phone or browser: login, take the account over (bind the
            # device, reset the password, in either order, or only reset it), withdraw.
            variant = self.variant("bind_then_reset", "reset_then_bind", "reset_only_web")
            intruder, ip = self.device(), self.ip()
            at = self.base - 40 * MINUTE
            self.account_event(account, at, "login", device_id=intruder, ip=ip)
            steps = {"bind_then_reset": ("device_bound", "password_change"),
                     "reset_then_bind": ("password_change", "device_bound"),
                     "reset_only_web": ("password_change",)}[variant]  # fmt: skip
            for step in steps:
                at += self.jitter(40, 180)
                self.account_event(account, at, step, device_id=intruder, ip=ip)
            at += self.jitter(5 * 60, 20 * 60)
            amount = self.sized(self.rng.uniform(800, 4000), self.rng.random() < 0.5)
            self.txn(account, at, amount, "withdrawal",
                     channel="web" if variant == "reset_only_web" else "app",
                     device_id=intruder, ip=ip, instrument_id=bank)  # fmt: skip
        elif self.look_alike(("owner_password_change",), ("new_phone_withdrawal",)) == (
            "new_phone_withdrawal"
        ):
            # The owner's new phone: login, bind it, and withdraw for the rent at once.
            phone = self.device()
            at = self.base - 30 * MINUTE
            self.account_event(account, at, "login", device_id=phone)
            at += self.jitter(30, 120)
            self.account_event(account, at, "device_bound", device_id=phone)
            at += self.jitter(5 * 60, 20 * 60)
            self.txn(account, at, float(self.rng.randrange(600, 2500)), "withdrawal",
                     channel="app", device_id=phone, instrument_id=bank)  # fmt: skip
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
        device, ip = self.device(), self.ip()
        if positive and self.evading("spread_out"):
            # Five or six guesses over half an hour: never five in twenty minutes.
            at = self.base - 50 * MINUTE
            for _ in range(self.rng.randint(5, 6)):
                at += self.jitter(330, 420)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
            at += self.jitter(30, 180)
            self.account_event(account, at, "login", device_id=device, ip=ip)
        elif positive:
            # Guessing: a fast run of failures, a slow one, or one from rotating addresses.
            variant = self.variant("fast_run", "slow_run", "rotating_ips")
            at = self.base - 19 * MINUTE
            slow = variant == "slow_run"
            for _ in range(5 if slow else self.rng.randint(6, 9)):
                at += self.jitter(120, 170) if slow else self.jitter(20, 60)
                where = self.ip() if variant == "rotating_ips" else ip
                self.account_event(account, at, "login_failed", device_id=device, ip=where)
            at += self.jitter(30, 180)
            self.account_event(account, at, "login", device_id=device, ip=ip)
        elif self.look_alike(("typos",), ("forgot_password",)) == "forgot_password":
            # A customer who forgot the password tries every old one, then remembers.
            at = self.base - 15 * MINUTE
            for _ in range(self.rng.randint(5, 6)):
                at += self.jitter(40, 100)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
            at += self.jitter(60, 240)
            self.account_event(account, at, "login", device_id=device, ip=ip)
        else:
            # A customer who mistyped the password a couple of times.
            at = self.base - 10 * MINUTE
            for _ in range(self.rng.randint(2, 3)):
                at += self.jitter(10, 40)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
            at += self.jitter(20, 90)
            self.account_event(account, at, "login", device_id=device, ip=ip)
        return self._scenario("login.brute_force", positive, "account", account)

    def credential_stuffing(self, positive: bool) -> Scenario:
        ip = self.ip()
        also: frozenset[str] = frozenset()
        if positive and self.evading("nine_accounts_at_most"):
            # Eight or nine accounts in ten minutes, a fresh device id for each.
            at = self.base - 10 * MINUTE
            for _ in range(self.rng.randint(8, 9)):
                account, device = self.account(), self.device()
                at += self.jitter(30, 60)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
        elif positive:
            # A script replays a leaked list from one proxy: one or two tries per account,
            # a few seconds apart, and now and then a password that still works; from two
            # devices, or from a fresh (spoofed) device id for every account, slower.
            variant = self.variant("two_devices", "device_per_account")
            spoofed = variant == "device_per_account"
            devices = [self.device() for _ in range(2)]
            at = self.base - 12 * MINUTE
            for _ in range(self.rng.randint(10, 13) if spoofed else self.rng.randint(12, 18)):
                account = self.account()
                device = self.device() if spoofed else self.rng.choice(devices)
                for _ in range(1 if spoofed else self.rng.choice((1, 1, 2))):
                    at += self.jitter(25, 45) if spoofed else self.jitter(4, 20)
                    self.account_event(account, at, "login_failed", device_id=device, ip=ip)
                if self.rng.random() < 0.15:
                    at += self.jitter(2, 6)
                    self.account_event(account, at, "login", device_id=device, ip=ip)
            # The script's devices each touch many accounts: device.shared_accounts, rightly.
            also = frozenset() if spoofed else frozenset({"device.shared_accounts"})
        elif self.look_alike(("campus_gateway",), ("carrier_nat_rush",)) == "carrier_nat_rush":
            # A carrier's NAT address at the morning rush: a dozen commuters mistype their
            # passwords on the train within ten minutes.
            at = self.base - 11 * MINUTE
            for _ in range(self.rng.randint(10, 14)):
                account, device = self.account(), self.device()
                at += self.jitter(15, 45)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
                self.account_event(account, at + self.jitter(8, 30), "login", device_id=device,
                                   ip=ip)  # fmt: skip
        else:
            # A campus gateway: eight students mistype their passwords over the hour.
            for _ in range(8):
                account, device = self.account(), self.device()
                at = self.base - self.jitter(60, 55 * 60)
                self.account_event(account, at, "login_failed", device_id=device, ip=ip)
                at += self.jitter(10, 40)
                self.account_event(account, at, "login", device_id=device, ip=ip)
        return self._scenario("login.credential_stuffing", positive, "ip", ip, also)

    def device_shared_accounts(self, positive: bool) -> Scenario:
        device, ip = self.device(), self.ip()
        shop = self.merchant()
        if positive and self.evading("four_wallets"):
            # Four wallets on the emulator: a household's worth.
            at = self.base - 3 * HOUR
            for account in [self.account() for _ in range(4)]:
                at += self.jitter(300, 1200)
                self.account_event(account, at, "login", device_id=device, ip=ip)
                at += self.jitter(30, 120)
                self.txn(account, at, self.rng.uniform(10, 90), counterparty_id=shop,
                         channel="app", device_id=device, ip=ip)  # fmt: skip
        elif positive:
            # An emulator in a fraud farm works through its stock of wallets: within a few
            # hours, or a slow burn over most of a day.
            slow = self.variant("farm_hours", "slow_burn_day") == "slow_burn_day"
            accounts = [self.account() for _ in range(self.rng.randint(5, 6) if slow else
                                                      self.rng.randint(6, 8))]  # fmt: skip
            at = self.base - (22 if slow else 3) * HOUR
            for account in accounts:
                at += self.jitter(2 * 3600, 3.4 * 3600) if slow else self.jitter(300, 1200)
                if self.rng.random() < 0.4:
                    self.account_event(account, at, "login_failed", device_id=device, ip=ip)
                    at += self.jitter(10, 40)
                self.account_event(account, at, "login", device_id=device, ip=ip)
                if self.rng.random() < 0.5:
                    at += self.jitter(30, 120)
                    self.txn(account, at, self.rng.uniform(10, 90), counterparty_id=shop,
                             channel="app", device_id=device, ip=ip)  # fmt: skip
        else:
            # A family tablet: three people (or a big family: five or six, the parents
            # having set up wallets for the children and grandparents), logins and
            # shopping through the day.
            big = self.look_alike(("family_tablet",), ("big_family",)) == "big_family"
            accounts = [self.account() for _ in range(self.rng.randint(5, 6) if big else 3)]
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
        far: dict[str, Any] = {"channel": "web", "geo": self._geo(away)}
        if positive and self.evading("no_location"):
            # From a browser that gives no location: only its (foreign) address.
            far = {"channel": "web", "ip": self.ip()}
            gap = self.jitter(30 * 60, 75 * 60)
        elif positive:
            # Logged in at home, then a payment from another continent within the hour: in
            # a browser, or in the app on a phone never seen before.
            if self.variant("web_far", "app_new_device") == "app_new_device":
                far = {"channel": "app", "device_id": self.device(), "geo": self._geo(away)}
            gap = self.jitter(30 * 60, 75 * 60)
        else:
            variant = self.look_alike(("flight", "fast_flight"), ("vpn_roaming",))
            if variant == "vpn_roaming":
                # At home on a VPN (or a roaming SIM): the browser's address places the
                # payment in a far city minutes after a login at home.
                gap = self.jitter(20 * 60, 60 * 60)
            else:
                # A real trip: the payment abroad comes after the flight (700 km/h, or a
                # fast direct flight at about 860 km/h, just under the rule's 900).
                speed = 860.0 if variant == "fast_flight" else 700.0
                slack = (20 * 60, 40 * 60) if variant == "fast_flight" else (3600, 7200)
                gap = timedelta(hours=distance / speed) + self.jitter(*slack)
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
            **far,
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
