"""One customer's ordinary traffic over the period: sessions, logins, money, trips.

Sessions come from the customer's day/night rhythm (:mod:`.rhythm`). A session is
either a payment at a shop's terminal (channel ``pos``: the terminal is the device,
the shop's location the geo) or the wallet app (or a browser) at home, at the office
or on mobile data: sometimes a login first (after a typo or two, now and then), then
one to a few actions in the customer's own mix: payments to favourite shops and online
merchants, transfers and red packets to friends, top-ups from a card or the bank
account (also automatic, when the balance falls short), withdrawals when the balance
allows. Rarely: a password change, a new phone bound, a phone number or KYC update, a
trip to another city (travelling no faster than an airliner), a refund, a dispute
cleared as legit. New accounts open during the period. Amounts have heavy tails (a
payment now and then ten times the customer's usual, a transfer the size of the rent)
and now and then a session is a burst of a dozen actions.

Each customer has a generator of its own (seeded from the run's seed and the customer's
index), and event ids here are provisional: :mod:`.dataset` assigns the final ones.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskstream.simulation import feedback
from riskstream.simulation.config import SimulationConfig, derived_seed
from riskstream.simulation.event import Kind, SimEvent
from riskstream.simulation.geography import City, geo, journey_ms, local_hour, near, pick_city
from riskstream.simulation.ids import MOBILE
from riskstream.simulation.population import Customer, Merchant, Population
from riskstream.simulation.rhythm import DAY_MS, session_times
from riskstream.streams.events import from_epoch_ms

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
KINDS = ("payment", "transfer", "red_packet", "top_up", "withdrawal")
RED_PACKETS = (6.66, 8.88, 10.0, 16.8, 20.0, 52.0, 66.66, 88.0, 88.88, 100.0, 168.0, 200.0)
RED_PACKET_WEIGHTS = tuple(float(w) for w in (12, 24, 34, 43, 53, 61, 67, 72, 77, 81, 83, 84))
TOP_UPS = (50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000)
# Ordinary behaviour that a rule tuned to this simulator would wrongly call fraud: a
# payment now and then ten times the usual (heavy tails), a transfer of rent-like size,
# and sessions with a burst of a dozen actions.
BIG_TICKET_CHANCE = 0.004
RENT_CHANCE = 0.01
BURST_CHANCE = 0.006


@dataclass(frozen=True, slots=True)
class Draft:
    """An event and its instant (epoch ms), before final ids and ordering."""

    ms: int
    event: SimEvent


def money(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.01):.2f}")


def nice_amount(at_least: float) -> int:
    """The smallest usual top-up amount covering ``at_least`` (or a multiple of 1000)."""
    for amount in TOP_UPS:
        if amount >= at_least:
            return amount
    return math.ceil(at_least / 1000.0) * 1000


@dataclass(frozen=True, slots=True)
class Trip:
    """Away from home: in transit between the instants given, at ``city`` in between."""

    city: City
    leave_ms: int
    arrive_ms: int
    back_ms: int  # leaves the destination; past the end when the trip outlasts the period
    home_ms: int

    def where(self, ms: int, home: City) -> City | None:
        """The city at ``ms``; None while travelling."""
        if ms < self.leave_ms or ms >= self.home_ms:
            return home
        if self.arrive_ms <= ms < self.back_ms:
            return self.city
        return None


class Background:
    """Generates each customer's ordinary events."""

    def __init__(self, config: SimulationConfig, population: Population) -> None:
        self.config = config
        self.population = population
        self.mobile_pool = max(512, len(population.customers))

    def customer_events(self, customer: Customer) -> list[Draft]:
        return _CustomerRun(self, customer).run()


class _CustomerRun:
    def __init__(self, owner: Background, customer: Customer) -> None:
        self.owner = owner
        self.config = owner.config
        self.customer = customer
        self.rng = random.Random(derived_seed(owner.config.seed, "customer", customer.index))
        self.drafts: list[Draft] = []
        self.serial = 0
        self.balance = customer.balance
        self.phone = customer.phone
        self.trip: Trip | None = None
        self.topped_up = False  # in the current session: no one tops up to withdraw at once

    # -- plumbing ------------------------------------------------------------------------

    def _emit(self, kind: Kind, ms: int, fields: dict[str, Any]) -> dict[str, Any]:
        self.serial += 1
        payload = {
            "event_id": f"b{self.customer.index}-{self.serial}",
            "type": fields.pop("type"),
            "occurred_at": from_epoch_ms(ms),
            "account_id": self.customer.account_id,
            **{key: value for key, value in fields.items() if value is not None},
        }
        self.drafts.append(Draft(ms, SimEvent(kind, payload)))
        return payload

    def _mobile_ip(self) -> str:
        return MOBILE.address(self.rng.randrange(self.owner.mobile_pool))

    # -- the period ----------------------------------------------------------------------

    def run(self) -> list[Draft]:
        config, customer, rng = self.config, self.customer, self.rng
        start, end = config.start_ms, config.end_ms
        self._plan_trip(start, end)
        opened = start
        if customer.new_account:
            opened = start + int(rng.random() * (end - start))
            while self._where(opened) is None:  # not on a plane: once there
                opened += HOUR_MS
            if opened >= end:
                return []
            self._open_account(opened)
        new_phone_at = end
        if rng.random() < 0.0015 * config.days:
            new_phone_at = start + int(rng.random() * (end - start))
        times = session_times(rng, customer.sessions_per_day, start, end, customer.city.utc_offset)
        for ms in times:
            city = self._where(ms)
            if ms <= opened + 5 * MINUTE_MS or city is None:  # not yet, or on a plane
                continue
            if ms >= new_phone_at:
                self._new_phone(ms, city)
                new_phone_at = end
                continue
            hour = local_hour(ms, city.utc_offset)
            pos = 7 <= hour < 23 and rng.random() < customer.pos_share
            if pos:
                self._shop(ms, city)
            else:
                self._app_session(ms, city, hour)
        return self.drafts

    def _where(self, ms: int) -> City | None:
        """The city the customer is in at ``ms``; None while travelling."""
        home = self.customer.city
        return self.trip.where(ms, home) if self.trip else home

    def _plan_trip(self, start: int, end: int) -> None:
        rng = self.rng
        if rng.random() >= 1.0 - math.exp(-self.config.days / 40.0):
            return
        home = self.customer.city
        destination = home
        while destination == home:
            destination = pick_city(rng)
        leave = start + int(rng.random() * (end - start))
        travel = journey_ms(home, destination)
        stay = int(rng.lognormvariate(math.log(3.0), 0.6) * DAY_MS)
        self.trip = Trip(destination, leave, leave + travel, leave + travel + stay,
                         leave + 2 * travel + stay)  # fmt: skip

    # -- account events ------------------------------------------------------------------

    def _spot(self, city: City) -> dict[str, Any]:
        """Device, address and place of an account event outside a session: at home on
        the home line, away on mobile data."""
        customer, rng = self.customer, self.rng
        if city is customer.city:
            lat, lon = near(rng, customer.lat, customer.lon, 0.03)
            ip = customer.home_ip
        else:
            lat, lon = near(rng, city.lat, city.lon, 0.04)
            ip = self._mobile_ip()
        return {"device_id": self.phone, "ip": ip, "geo": geo(lat, lon, city)}

    def _open_account(self, ms: int) -> None:
        rng = self.rng
        city = self._where(ms)
        assert city is not None
        common = self._spot(city)
        self._emit("account_event", ms, {"type": "account_opened", **common})
        ms += int(rng.uniform(20, 120) * 1000)
        self._emit("account_event", ms, {"type": "device_bound", **common})
        ms += int(rng.uniform(2, 20) * MINUTE_MS)
        self._emit("account_event", ms, {"type": "kyc_update", **common})
        self.balance = 0.0

    def _new_phone(self, ms: int, city: City) -> None:
        """A new phone: a login on it (a typo first, sometimes), then it is bound."""
        rng = self.rng
        self.phone = self.owner.population.mint.new("device")
        common = self._spot(city)
        if rng.random() < 0.3:
            self._emit("account_event", ms, {"type": "login_failed", **common})
            ms += int(rng.uniform(10, 40) * 1000)
        self._emit("account_event", ms, {"type": "login", **common})
        ms += int(rng.uniform(30, 180) * 1000)
        self._emit("account_event", ms, {"type": "device_bound", **common})

    # -- sessions ------------------------------------------------------------------------

    def _shop(self, ms: int, city: City) -> None:
        customer, rng = self.customer, self.rng
        if city is customer.city:
            shop = rng.choices(customer.shops, cum_weights=customer.shop_weights)[0]
        else:
            local = self.owner.population.by_city[city.name]
            shop = rng.choices(local, weights=[m.popularity for m in local])[0]
        card = rng.choice(customer.cards) if rng.random() < 0.4 else None
        self._pay(ms, shop, {
            "channel": "pos", "device_id": rng.choice(shop.terminals),
            "geo": geo(shop.lat, shop.lon, city), "instrument_id": card,
        })  # fmt: skip

    def _app_session(self, ms: int, city: City, hour: int) -> None:
        customer, rng = self.customer, self.rng
        away = city is not customer.city
        channel, device = "app", self.phone
        draw = rng.random()
        if customer.other_device and draw < 0.15:
            channel, device = "web", customer.other_device
        elif customer.family_device and draw > 0.88:
            device = customer.family_device
        ip = self._session_ip(ms, hour, away)
        where: dict[str, Any] | None = None
        if channel == "app" and rng.random() < 0.85:
            home = (city.lat, city.lon) if away else (customer.lat, customer.lon)
            where = geo(*near(rng, *home, 0.04), city)
        elif channel == "web" and rng.random() < 0.6:  # IP geolocation: the city, roughly
            where = geo(*near(rng, city.lat, city.lon, 0.1), city)
        context = {"channel": channel, "device_id": device, "ip": ip, "geo": where}
        account = {"device_id": device, "ip": ip, "geo": where}
        if rng.random() < 0.3:
            if rng.random() < 0.04:
                for _ in range(rng.choice((1, 1, 2, 3))):
                    self._emit("account_event", ms, {"type": "login_failed", **account})
                    ms += int(rng.uniform(8, 40) * 1000)
            self._emit("account_event", ms, {"type": "login", **account})
            ms += int(rng.uniform(5, 40) * 1000)
        for change, chance in (("password_change", 0.0015), ("phone_change", 0.0004),
                               ("kyc_update", 0.0006)):  # fmt: skip
            if rng.random() < chance:
                self._emit("account_event", ms, {"type": change, **account})
                ms += int(rng.uniform(20, 90) * 1000)
        actions = 1
        while actions < 6 and rng.random() < 0.38:
            actions += 1
        if rng.random() < BURST_CHANCE:  # a spree: a dozen things at once, now and then
            actions = rng.randint(7, 14)
        self.topped_up = False
        for _ in range(actions):
            ms = self._action(ms, city, context)
            ms += int(rng.uniform(15, 150) * 1000)

    def _session_ip(self, ms: int, hour: int, away: bool) -> str:
        customer, rng = self.customer, self.rng
        if away:
            return self._mobile_ip()
        weekday = ((ms + customer.city.utc_offset * HOUR_MS) // DAY_MS + 3) % 7  # Monday 0
        draw = rng.random()
        if hour < 7 or hour >= 23:
            return customer.home_ip if draw < 0.9 else self._mobile_ip()
        if customer.office_ip and weekday < 5 and 9 <= hour < 18:
            return customer.office_ip if draw < 0.6 else self._mobile_ip()
        return customer.home_ip if draw < 0.6 else self._mobile_ip()

    def _action(self, ms: int, city: City, context: dict[str, Any]) -> int:
        customer, rng = self.customer, self.rng
        kind = rng.choices(KINDS, cum_weights=customer.mix)[0]
        if kind == "withdrawal" and (
            self.topped_up or self.balance < max(300.0, 4 * customer.scale)
        ):
            kind = "payment"
        if kind == "payment":
            if rng.random() < 0.45 or city is not customer.city:
                merchant = rng.choice(customer.online_merchants)
            else:  # a QR code at a favourite shop
                merchant = rng.choices(customer.shops, cum_weights=customer.shop_weights)[0]
            card = rng.choice(customer.cards) if rng.random() < 0.25 else None
            return self._pay(ms, merchant, {**context, "instrument_id": card})
        if kind in ("transfer", "red_packet") and customer.friends:
            if kind == "transfer":
                raw = customer.scale * rng.lognormvariate(1.2, 0.7)
                if rng.random() < RENT_CHANCE:  # the rent, school fees: a big round sum
                    raw = customer.scale * rng.uniform(25, 80)
                amount = money(round(raw, -1) if raw >= 100 else round(raw))
            else:
                amount = money(rng.choices(RED_PACKETS, cum_weights=RED_PACKET_WEIGHTS)[0])
            ms = self._cover(ms, float(amount), context)
            failed = rng.random() < 0.005
            self._emit("transaction", ms, {
                "type": kind, "counterparty_id": rng.choice(customer.friends), "amount": amount,
                "currency": "CNY", "status": "failed" if failed else "succeeded", **context,
            })  # fmt: skip
            if not failed:
                self.balance -= float(amount)
            return ms
        if kind == "withdrawal":
            amount = money(round(self.balance * rng.uniform(0.3, 0.95), -1))
            target = customer.bank_account if rng.random() < 0.85 else customer.cards[0]
            status = "pending" if rng.random() < 0.03 else "succeeded"
            self._emit("transaction", ms, {
                "type": "withdrawal", "counterparty_id": None, "amount": amount,
                "currency": "CNY", "instrument_id": target, "status": status, **context,
            })  # fmt: skip
            self.balance -= float(amount)
            return ms
        return self._top_up(ms, nice_amount(customer.scale * rng.lognormvariate(1.4, 0.6)), context)

    def _top_up(self, ms: int, amount: int, context: dict[str, Any]) -> int:
        customer, rng = self.customer, self.rng
        source = rng.choice(customer.cards) if rng.random() < 0.6 else customer.bank_account
        failed = rng.random() < 0.01
        self._emit("transaction", ms, {
            "type": "top_up", "amount": money(amount), "currency": "CNY", **context,
            "instrument_id": source, "status": "failed" if failed else "succeeded",
        })  # fmt: skip
        if not failed:
            self.balance += amount
        self.topped_up = True
        return ms + int(rng.uniform(10, 40) * 1000)

    def _cover(self, ms: int, amount: float, context: dict[str, Any]) -> int:
        """Top up first when the balance cannot pay ``amount``."""
        if amount <= self.balance:
            return ms
        if context.get("channel") == "pos":  # the top-up is made in the app, at the till
            context = {"channel": "app", "device_id": self.phone, "ip": self._mobile_ip(),
                       "geo": context.get("geo")}  # fmt: skip
        headroom = self.customer.scale * self.rng.uniform(0.0, 3.0)
        return self._top_up(ms, nice_amount(amount - self.balance + headroom), context)

    def _pay(self, ms: int, merchant: Merchant, context: dict[str, Any]) -> int:
        customer, rng = self.customer, self.rng
        ticket = customer.scale * merchant.category.ticket * rng.lognormvariate(0.0, 0.75)
        if rng.random() < BIG_TICKET_CHANCE:  # the heavy tail: a sofa, a phone, a deposit
            ticket *= rng.lognormvariate(2.3, 0.5)
        amount = money(min(ticket, 50_000.0))
        if context.get("instrument_id") is None:
            ms = self._cover(ms, float(amount), context)
        declined = rng.random() < (0.04 if context.get("instrument_id") else 0.012)
        category = {"merchant_category": merchant.category.mcc}
        fields = {
            "type": "payment", "counterparty_id": merchant.merchant_id, "amount": amount,
            "currency": "CNY", **context, "attributes": category,
        }  # fmt: skip
        if declined:
            self._emit("transaction", ms, {**fields, "status": "failed"})
            if rng.random() >= 0.5:
                return ms
            ms += int(rng.uniform(10, 40) * 1000)
        sale = self._emit("transaction", ms, {**fields, "status": "succeeded"})
        if context.get("instrument_id") is None:
            self.balance -= float(amount)
        self._after_sale(ms, sale)
        return ms

    def _after_sale(self, ms: int, sale: dict[str, Any]) -> None:
        """Now and then a refund from the merchant, or a dispute cleared as legit."""
        rng = self.rng
        if rng.random() < 0.003:
            later = ms + int(rng.uniform(1, 72) * HOUR_MS)
            self._emit("transaction", later, {
                "type": "refund", "counterparty_id": sale["counterparty_id"],
                "amount": sale["amount"], "currency": "CNY", "channel": sale.get("channel"),
                "instrument_id": sale.get("instrument_id"), "status": "succeeded",
            })  # fmt: skip
        if rng.random() < feedback.LEGIT_DISPUTE_RATE:
            later = ms + feedback.delay_ms(rng, "analyst") + int(rng.uniform(1, 4) * DAY_MS)
            self._emit("feedback", later, feedback.payload(sale, "legit", "analyst"))
