"""Who is in the simulated world: customers and merchants, seeded.

A customer lives in a city, has a phone (some also a tablet or a browser, some share a
family tablet), a home broadband line shared with the household, often an office
network, one or two cards and a bank account, a habitual amount scale (log-normal
across customers), an activity level, favourite shops and online merchants, and friends
to send money and red packets to. Merchants are shops (with a location and terminals)
or online merchants, of a category that sets their typical ticket.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import accumulate

from riskstream.simulation.config import SimulationConfig, derived_seed
from riskstream.simulation.geography import CITY_TABLE, City, near, pick_city
from riskstream.simulation.ids import BROADBAND, OFFICE, IdMint


@dataclass(frozen=True, slots=True)
class Category:
    mcc: str
    name: str
    ticket: float  # typical amount, relative to a customer's scale
    weight: float
    online: bool


CATEGORIES: tuple[Category, ...] = (
    Category("5411", "grocery", 1.2, 20.0, False),
    Category("5812", "restaurant", 1.5, 16.0, False),
    Category("5814", "fast food", 0.5, 18.0, False),
    Category("5499", "convenience", 0.3, 14.0, False),
    Category("5912", "pharmacy", 0.8, 5.0, False),
    Category("5541", "fuel", 3.0, 4.0, False),
    Category("5651", "clothing", 4.0, 5.0, False),
    Category("5732", "electronics", 8.0, 2.0, False),
    Category("4111", "transit", 0.15, 6.0, False),
    Category("5399", "marketplace", 2.0, 6.0, True),
    Category("5816", "games", 0.8, 2.0, True),
    Category("4814", "telecom", 1.5, 2.0, True),
    Category("5811", "food delivery", 1.0, 5.0, True),
)


@dataclass(frozen=True, slots=True)
class Merchant:
    merchant_id: str
    category: Category
    city: City | None  # None: online
    lat: float
    lon: float
    terminals: tuple[str, ...]
    popularity: float

    @property
    def online(self) -> bool:
        return self.city is None


@dataclass(slots=True)
class Customer:
    index: int
    account_id: str
    city: City
    lat: float
    lon: float
    phone: str
    other_device: str | None  # own tablet or browser
    family_device: str | None  # a tablet shared with the household
    home_ip: str
    office_ip: str | None
    cards: tuple[str, ...]
    bank_account: str
    scale: float  # median ticket, CNY
    sessions_per_day: float
    pos_share: float  # of sessions that are payments at a shop's terminal
    mix: tuple[
        float, ...
    ]  # cumulative weights of payment, transfer, red_packet, top_up, withdrawal
    shops: tuple[Merchant, ...]
    shop_weights: tuple[float, ...]  # cumulative
    online_merchants: tuple[Merchant, ...]
    friends: tuple[str, ...] = ()
    new_account: bool = False  # opens the account during the period
    balance: float = 0.0


@dataclass(slots=True)
class Population:
    customers: list[Customer]
    merchants: list[Merchant]
    mint: IdMint
    by_city: dict[str, list[Merchant]] = field(default_factory=dict)

    @property
    def online(self) -> list[Merchant]:
        return [merchant for merchant in self.merchants if merchant.online]


def _merchants(rng: random.Random, mint: IdMint, customers: int) -> list[Merchant]:
    shops = [category for category in CATEGORIES if not category.online]
    online = [category for category in CATEGORIES if category.online]
    merchants = []
    total_weight = sum(city.weight for city in CITY_TABLE)
    target = max(60, customers // 5)
    for city in CITY_TABLE:
        for _ in range(max(3, round(target * city.weight / total_weight))):
            category = rng.choices(shops, weights=[c.weight for c in shops])[0]
            lat, lon = near(rng, city.lat, city.lon, 0.08)
            tills = 1 + int(rng.expovariate(0.8)) if category.name in {"grocery", "fuel"} else 1
            terminals = tuple(mint.new("terminal") for _ in range(min(tills, 6)))
            popularity = rng.paretovariate(1.2)
            merchants.append(
                Merchant(mint.new("merchant"), category, city, lat, lon, terminals, popularity)
            )
    for _ in range(max(8, customers // 150)):
        category = rng.choices(online, weights=[c.weight for c in online])[0]
        popularity = 3.0 * rng.paretovariate(1.2)
        merchants.append(Merchant(mint.new("merchant"), category, None, 0.0, 0.0, (), popularity))
    return merchants


def _mix(rng: random.Random) -> tuple[float, ...]:
    """A customer's own propensities: some pay, some send money, some mostly top up."""
    weights = (
        70.0 * rng.uniform(0.6, 1.3),  # payment
        8.0 * rng.lognormvariate(0, 0.6),  # transfer
        7.0 * rng.lognormvariate(0, 0.7),  # red packet
        6.0 * rng.uniform(0.5, 1.5),  # standalone top-up
        3.0 * rng.uniform(0.3, 1.5),  # withdrawal
    )
    return tuple(accumulate(weights))


def build_population(config: SimulationConfig) -> Population:
    rng = random.Random(derived_seed(config.seed, "population"))
    mint = IdMint(random.Random(derived_seed(config.seed, "ids")))
    merchants = _merchants(rng, mint, config.customers)
    by_city: dict[str, list[Merchant]] = defaultdict(list)
    for merchant in merchants:
        if merchant.city is not None:
            by_city[merchant.city.name].append(merchant)
    online = [merchant for merchant in merchants if merchant.online]
    offices: dict[str, list[str]] = defaultdict(list)

    customers: list[Customer] = []
    household_left = 0
    home_ip, family_device, city = "", None, CITY_TABLE[0]
    lat, lon = city.lat, city.lon
    for index in range(config.customers):
        if household_left == 0:  # a new household: its city, line and maybe a tablet
            household_left = rng.choices((1, 2, 3, 4), weights=(55, 28, 12, 5))[0]
            city = pick_city(rng)
            lat, lon = near(rng, city.lat, city.lon, 0.06)
            home_ip = mint.ip(BROADBAND)
            family_device = (
                mint.new("device") if household_left > 1 and rng.random() < 0.35 else None
            )
        household_left -= 1
        office_ip = None
        if rng.random() < 0.55:
            pool = offices[city.name]
            if not pool or rng.random() < 1 / 12:
                pool.append(mint.ip(OFFICE))
            office_ip = rng.choice(pool)
        local = by_city[city.name]
        shops = tuple(
            rng.choices(local, weights=[m.popularity for m in local], k=rng.randint(4, 12))
        )
        # Repeated picks are fine: a favourite shop weighs more.
        shop_weights = tuple(accumulate(rng.paretovariate(1.5) for _ in shops))
        favourites_online = tuple(
            rng.choices(online, weights=[m.popularity for m in online], k=rng.randint(2, 5))
        )
        scale = min(rng.lognormvariate(4.0, 0.65), 2000.0)  # median ~55 CNY
        customers.append(
            Customer(
                index=index,
                account_id=mint.new("account"),
                city=city,
                lat=lat,
                lon=lon,
                phone=mint.new("device"),
                other_device=mint.new("device") if rng.random() < 0.2 else None,
                family_device=family_device,
                home_ip=home_ip,
                office_ip=office_ip,
                cards=tuple(mint.new("card") for _ in range(rng.choice((1, 1, 2)))),
                bank_account=mint.new("bank"),
                scale=scale,
                sessions_per_day=min(rng.lognormvariate(0.75, 0.8), 30.0),  # median ~2.1
                pos_share=rng.uniform(0.1, 0.45),
                mix=_mix(rng),
                shops=shops,
                shop_weights=shop_weights,
                online_merchants=favourites_online,
                new_account=rng.random() < 0.004 * config.days,
                balance=scale * rng.lognormvariate(2.0, 0.8),
            )
        )
    _befriend(rng, customers)
    return Population(customers, merchants, mint, dict(by_city))


def _befriend(rng: random.Random, customers: list[Customer]) -> None:
    """3-10 friends each, three in four from the same city."""
    by_city: dict[str, list[str]] = defaultdict(list)
    for customer in customers:
        by_city[customer.city.name].append(customer.account_id)
    everyone = [customer.account_id for customer in customers]
    for customer in customers:
        local = by_city[customer.city.name]
        friends: set[str] = set()
        for _ in range(rng.randint(3, 10)):
            pool = local if len(local) > 1 and rng.random() < 0.75 else everyone
            friend = rng.choice(pool)
            if friend != customer.account_id:
                friends.add(friend)
        customer.friends = tuple(sorted(friends))
