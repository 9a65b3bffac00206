"""Labelled fraud scenarios: for every rule of the default pack, a case and a near miss.

Each scenario is a short, realistic story told in contract-v1 events: the positive one
is the fraud the rule is written for, clearly over its thresholds; the negative one is
the legitimate look-alike (or the near miss) the rule must stay silent on. Every
scenario gets its own accounts, devices, IPs, instruments and merchants, so any number
of them can be mixed into one stream without one seeing another's events; built from
the same seed and base time, the scenarios are the same, event ids included.

All events of a scenario happen at or before ``base``. The long-horizon rules need
history: the amount spike looks back up to 25 days, the dormant account is known for
more than 100 days. Within one scenario, events are in event-time order.

The scenarios are written not to trip any other rule of the pack; where a story cannot
avoid it, the other rule ids are listed in :attr:`Scenario.also`.

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
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from riskstream.agents.cep.expressions import distance_km
from riskstream.rules.loader import default_pack
from riskstream.tools.simulate import Kind, Role, SimEvent

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

FEEDBACK: Kind = "feedback"  # kafka_io.topic_for sends these to the feedback topic

# (name, lat, lon, country)
CITIES: tuple[tuple[str, float, float, str], ...] = (
    ("Shanghai", 31.2304, 121.4737, "CN"),
    ("Beijing", 39.9042, 116.4074, "CN"),
    ("Shenzhen", 22.5431, 114.0579, "CN"),
    ("Chengdu", 30.5728, 104.0668, "CN"),
    ("Singapore", 1.3521, 103.8198, "SG"),
    ("Frankfurt", 50.1109, 8.6821, "DE"),
    ("London", 51.5072, -0.1276, "GB"),
    ("Lagos", 6.5244, 3.3792, "NG"),
    ("Sao Paulo", -23.5505, -46.6333, "BR"),
    ("New York", 40.7128, -74.0060, "US"),
)


@dataclass(frozen=True)
class Scenario:
    """One labelled story: the events, and the entity the rule judges."""

    rule_id: str
    positive: bool
    events: list[SimEvent]
    entity_type: str
    entity_id: str
    also: frozenset[str] = frozenset()  # other rules the story cannot help tripping

    @property
    def label(self) -> str:
        return self.rule_id if self.positive else f"negative:{self.rule_id}"

    @property
    def attack(self) -> list[SimEvent]:
        """The events that are the fraud itself (none in a look-alike)."""
        return [event for event in self.events if event.role == "attack"]

    @property
    def context(self) -> list[SimEvent]:
        """The events around the fraud that the story needs (all of a look-alike's)."""
        return [event for event in self.events if event.role == "context"]

    @property
    def sources(self) -> frozenset[tuple[str, str]]:
        """The (kind, account) streams the events come from.

        Events of one stream reach the pipeline in order; events of several (another
        topic, another account's partition) interleave as the consumer happens to read
        them, which can change which window or pair a signal names, though not whether
        the rule fires.
        """
        return frozenset((event.kind, str(event.payload["account_id"])) for event in self.events)


def pack_rule_ids() -> set[str]:
    """The ids of the rules in the default pack."""
    return {doc.id for doc in default_pack()}


def event_order(event: SimEvent) -> tuple[datetime, str]:
    return event.occurred_at, str(event.payload["event_id"])


def stream(scenarios: Iterable[Scenario]) -> list[SimEvent]:
    """The events of all the scenarios as one stream, in event-time order."""
    return sorted((event for item in scenarios for event in item.events), key=event_order)


def day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _money(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.01):.2f}")


class ScenarioBuilder:
    """Makes scenarios with fresh entity and event ids, all seeded."""

    def __init__(self, base: datetime, seed: int = 7, prefix: str = "sc") -> None:
        if base.tzinfo is None:
            raise ValueError("base must be a zone-aware datetime")
        self.base = _ms(base)
        self.seed = seed
        self.prefix = f"{prefix}{seed}"
        self.rng = random.Random(seed)
        self._serial = 0
        self._ip_offset = zlib.crc32(self.prefix.encode()) & 0xFFFFFF
        self._events: list[SimEvent] = []
        self._role: Role = "attack"  # of the events made now
        self._roles: dict[str, Role] = {}  # event id -> role, of the story being made

    # -- ids and entities --------------------------------------------------------------

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def _id(self, kind: str) -> str:
        return f"{self.prefix}-{kind}-{self._next():05d}"

    def account(self) -> str:
        return self._id("acct")

    def device(self) -> str:
        return self._id("dev")

    def instrument(self, kind: str = "card") -> str:
        return self._id(kind)

    def merchant(self) -> str:
        return self._id("merch")

    def ip(self) -> str:
        value = (self._ip_offset + self._next()) & 0xFFFFFF
        return f"10.{value >> 16}.{(value >> 8) & 0xFF}.{value & 0xFF}"

    # -- roles -------------------------------------------------------------------------

    @contextmanager
    def context(self) -> Iterator[None]:
        """The events made inside are the story's context, not the fraud itself."""
        previous, self._role = self._role, "context"
        try:
            yield
        finally:
            self._role = previous

    def mark_attack(self, *payloads: dict[str, Any]) -> None:
        """Events made as context that turn out to be the fraud (picked afterwards)."""
        for payload in payloads:
            self._roles[str(payload["event_id"])] = "attack"

    def _made(self, kind: Kind, payload: dict[str, Any], role: Role) -> None:
        self._events.append(SimEvent(kind, payload))
        self._roles[str(payload["event_id"])] = role

    # -- events ------------------------------------------------------------------------

    def txn(
        self,
        account: str,
        at: datetime,
        amount: Decimal | float,
        type: str = "payment",
        **fields: Any,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self._id("tx"),
            "type": type,
            "occurred_at": _ms(at),
            "account_id": account,
            "amount": amount if isinstance(amount, Decimal) else _money(amount),
            "currency": "CNY",
            "status": "succeeded",
            **{key: value for key, value in fields.items() if value is not None},
        }
        self._made("transaction", payload, self._role)
        return payload

    def account_event(self, account: str, at: datetime, type: str, **fields: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self._id("ae"),
            "type": type,
            "occurred_at": _ms(at),
            "account_id": account,
            **{key: value for key, value in fields.items() if value is not None},
        }
        self._made("account_event", payload, self._role)
        return payload

    def feedback(
        self, sale: dict[str, Any], at: datetime, label: str, source: str = "chargeback"
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self._id("fb"),
            "type": "feedback",
            "target_event_id": sale["event_id"],
            "label": label,
            "occurred_at": _ms(at),
            "account_id": sale["account_id"],
            "counterparty_id": sale["counterparty_id"],
            "source": source,
        }
        # A report belongs with what it reports on: fraud feedback on a fraudulent sale
        # is part of the attack, on an ordinary sale part of the context.
        self._made(FEEDBACK, payload, self._roles.get(str(sale["event_id"]), self._role))
        return payload

    def _scenario(
        self,
        rule_id: str,
        positive: bool,
        entity_type: str,
        entity_id: str,
        also: frozenset[str] = frozenset(),
    ) -> Scenario:
        label = rule_id if positive else f"negative:{rule_id}"
        roles = self._roles
        events = sorted(
            (
                replace(
                    event,
                    scenario=label,
                    role=roles[str(event.payload["event_id"])] if positive else "context",
                )
                for event in self._events
            ),
            key=event_order,
        )
        self._events, self._roles = [], {}
        return Scenario(rule_id, positive, events, entity_type, entity_id, also)

    # -- time ----------------------------------------------------------------------------

    def jitter(self, low: float, high: float) -> timedelta:
        return timedelta(seconds=self.rng.uniform(low, high))

    @property
    def day_end(self) -> datetime:
        """Where a story that must stay on one UTC day ends: ``base``, or just before
        midnight when ``base`` is in the first hour of its day.

        Day-based rules (dormancy, the amount baseline) judge by UTC day; a story that
        straddled midnight would be judged by halves.
        """
        midnight = day_start(self.base)
        return self.base if self.base - midnight >= HOUR else midnight - SECOND

    # -- the scenarios: velocity -------------------------------------------------------

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

    # -- account takeover and logins -----------------------------------------------------

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

    # -- cards and cash ------------------------------------------------------------------

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

    # -- mules ---------------------------------------------------------------------------

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

    # -- long horizons -------------------------------------------------------------------

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
        if positive:
            # Back after months: the balance leaves for a new bank account.
            self.txn(
                account,
                start,
                float(self.rng.randrange(1500, 4500)),
                "withdrawal",
                channel="app",
                device_id=device,
                instrument_id=self.instrument("bank"),
            )
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
        days = self.rng.sample(range(1, 26), self.rng.randint(7, 12))
        low, high = (40.0, 150.0) if positive else (150.0, 350.0)
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
        mean = sum(float(_money(amount)) for amount in amounts) / len(amounts)
        at = self.day_end - 10 * MINUTE
        if positive:
            # Twenty times the usual ticket, to a payee never seen before.
            amount = min(max(1000.0, mean * self.rng.uniform(15, 25)), 4500.0)
            self.txn(
                account,
                at,
                amount,
                "transfer",
                counterparty_id=self.account(),
                channel="app",
                device_id=device,
            )
        else:
            # A big but plausible purchase: over 1000, four to six times the usual.
            amount = max(1000.0, mean * self.rng.uniform(4, 6))
            self.txn(account, at, amount, counterparty_id=shops[0], channel="app", device_id=device)
        return self._scenario("amount.spike", positive, "account", account)

    def merchant_fraud_rate(self, positive: bool) -> Scenario:
        shop = self.merchant()
        with self.context():  # the merchant's sales; the fraudulent ones are picked below
            sales = [
                self.txn(
                    self.account(),
                    self.base - self.jitter(1.2 * 86_400, 6 * 86_400),
                    self.rng.uniform(30, 400),
                    counterparty_id=shop,
                    channel="app",
                )
                for _ in range(self.rng.randint(35, 45))
            ]
        labelled = self.rng.sample(sales, 5)
        # Chargebacks and analyst verdicts arrive days after the payments.
        if positive:
            for sale in labelled[: self.rng.randint(3, 4)]:
                self.mark_attack(sale)  # a fraudulent sale; its chargeback is attack too
                self.feedback(
                    sale,
                    self.base - self.jitter(60, 12 * 3600),
                    "fraud",
                    self.rng.choice(["chargeback", "analyst", "customer"]),
                )
        else:
            # Two frauds and a few cleared disputes: bad luck, not a bad merchant.
            for index, sale in enumerate(labelled):
                self.feedback(
                    sale,
                    self.base - self.jitter(60, 12 * 3600),
                    "fraud" if index < 2 else "legit",
                    "analyst",
                )
        return self._scenario("merchant.fraud_rate", positive, "merchant", shop)

    # -- all of them ---------------------------------------------------------------------

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


def build_all(base: datetime, seed: int = 7, prefix: str = "sc") -> list[Scenario]:
    """One positive and one negative scenario per rule of the default pack.

    Raises when the pack has a rule this library has no story for (or the reverse).
    """
    builder = ScenarioBuilder(base, seed, prefix)
    generators = builder.generators()
    missing = pack_rule_ids() ^ set(generators)
    if missing:
        raise LookupError(f"no scenarios for, or no pack rule for: {sorted(missing)}")
    return [
        generator(positive)
        for _, generator in sorted(generators.items())
        for positive in (True, False)
    ]
