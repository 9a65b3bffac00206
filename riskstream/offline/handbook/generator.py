"""The handbook's transaction simulator, from its description (chapter 3, "Transaction
data simulator").

- Customers: a place on a 100 x 100 grid, a mean amount drawn from U(5, 100) with half
  of it as the standard deviation, a mean number of transactions a day from U(0, 4).
- Terminals: a place on the same grid.
- A customer pays only at terminals closer than ``radius`` (5) to home, picked at
  random among them; a customer with none pays nowhere.
- Each day a customer makes Poisson(mean per day) transactions; a time of day drawn
  from N(noon, 20,000 s), dropped when it falls outside the day; an amount from
  N(mean, std), redrawn from U(0, 2 * mean) when negative, to the cent.
- Fraud, in three scenarios applied in order:
  1. every amount above 220 is fraud;
  2. each day two terminals are compromised: all their transactions of that day and
     the next 27 (28 days) are fraud;
  3. each day three customers are compromised: in that day and the next 13 (14 days),
     a third of their transactions, drawn at random, have their amount multiplied by
     5 and are fraud.

Everything is drawn from one seeded numpy generator, so a seed gives the same data.
Arrays, not rows: 1.7 million transactions at the handbook's scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

DAY_S = 86_400
SCENARIO_NONE, SCENARIO_AMOUNT, SCENARIO_TERMINAL, SCENARIO_CUSTOMER = 0, 1, 2, 3
SCENARIO_NAMES = {
    SCENARIO_AMOUNT: "handbook.amount_over_220",
    SCENARIO_TERMINAL: "handbook.compromised_terminal",
    SCENARIO_CUSTOMER: "handbook.compromised_card",
}
AMOUNT_LIMIT = 220.0
TERMINALS_A_DAY, TERMINAL_DAYS = 2, 28
CUSTOMERS_A_DAY, CUSTOMER_DAYS, CUSTOMER_FACTOR = 3, 14, 5.0


@dataclass(frozen=True, slots=True)
class HandbookConfig:
    """The handbook's defaults: 5,000 customers, 10,000 terminals, 183 days from
    2018-04-01, radius 5."""

    seed: int = 0
    customers: int = 5_000
    terminals: int = 10_000
    days: int = 183
    radius: float = 5.0
    start: datetime = datetime(2018, 4, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Profiles:
    customer_xy: NDArray[np.float64]  # (customers, 2)
    mean_amount: NDArray[np.float64]
    std_amount: NDArray[np.float64]
    mean_per_day: NDArray[np.float64]
    terminal_xy: NDArray[np.float64]  # (terminals, 2)
    # The terminals each customer may use: customer c's are reach[offsets[c]:offsets[c+1]].
    reach: NDArray[np.int64]
    offsets: NDArray[np.int64]


@dataclass(slots=True)
class Transactions:
    """One entry per transaction, in time order (ties: customer, then draw order)."""

    customer: NDArray[np.int64]
    terminal: NDArray[np.int64]
    seconds: NDArray[np.int64]  # since the start
    amount: NDArray[np.float64]
    fraud: NDArray[np.bool_]
    scenario: NDArray[np.int8]  # the last scenario that marked it (0: legitimate)
    # Which compromise made it fraud: the day the terminal or customer was drawn (-1).
    compromised_on: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.customer)

    @property
    def day(self) -> NDArray[np.int64]:
        return self.seconds // DAY_S


@dataclass(frozen=True, slots=True)
class HandbookData:
    config: HandbookConfig
    profiles: Profiles
    transactions: Transactions


def generate(config: HandbookConfig, progress: Callable[[str], None] | None = None) -> HandbookData:
    say = progress or (lambda _text: None)
    rng = np.random.default_rng(config.seed)
    say("profiles")
    profiles = make_profiles(config, rng)
    say("transactions")
    transactions = make_transactions(config, profiles, rng)
    say("fraud scenarios")
    add_frauds(config, transactions, rng)
    return HandbookData(config, profiles, transactions)


def make_profiles(config: HandbookConfig, rng: np.random.Generator) -> Profiles:
    customer_xy = rng.uniform(0, 100, size=(config.customers, 2))
    mean_amount = rng.uniform(5, 100, size=config.customers)
    mean_per_day = rng.uniform(0, 4, size=config.customers)
    terminal_xy = rng.uniform(0, 100, size=(config.terminals, 2))
    reach: list[NDArray[np.int64]] = []
    for start in range(0, config.customers, 500):  # 500 x terminals distances at a time
        block = customer_xy[start : start + 500, None, :] - terminal_xy[None, :, :]
        near = np.sqrt((block**2).sum(axis=2)) < config.radius
        reach.extend(np.flatnonzero(row).astype(np.int64) for row in near)
    sizes = np.array([len(terminals) for terminals in reach], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    flat = np.concatenate(reach) if reach else np.zeros(0, dtype=np.int64)
    return Profiles(
        customer_xy, mean_amount, mean_amount / 2, mean_per_day, terminal_xy, flat, offsets
    )


def make_transactions(
    config: HandbookConfig, profiles: Profiles, rng: np.random.Generator
) -> Transactions:
    counts = rng.poisson(profiles.mean_per_day[:, None], size=(config.customers, config.days))
    reachable = np.diff(profiles.offsets)
    counts[reachable == 0] = 0
    customer_of, day_of = np.nonzero(counts)
    repeat = counts[customer_of, day_of]
    customer = np.repeat(customer_of, repeat).astype(np.int64)
    day = np.repeat(day_of, repeat).astype(np.int64)
    time_of_day = rng.normal(DAY_S / 2, 20_000, size=len(customer))
    amount = rng.normal(profiles.mean_amount[customer], profiles.std_amount[customer])
    negative = amount < 0
    amount[negative] = rng.uniform(0, 2 * profiles.mean_amount[customer[negative]])
    # The contract wants a positive amount: a draw that rounds to 0.00 is a cent.
    amount = np.maximum(np.round(amount, 2), 0.01)
    pick = rng.random(len(customer))
    terminal = profiles.reach[
        profiles.offsets[customer] + (pick * reachable[customer]).astype(np.int64)
    ]
    kept = (time_of_day > 0) & (time_of_day < DAY_S)
    seconds = day * DAY_S + time_of_day.astype(np.int64)
    order = np.lexsort((np.arange(len(customer)), customer, seconds))
    order = order[kept[order]]
    size = len(order)
    return Transactions(
        customer=customer[order],
        terminal=terminal[order],
        seconds=seconds[order],
        amount=amount[order],
        fraud=np.zeros(size, dtype=np.bool_),
        scenario=np.zeros(size, dtype=np.int8),
        compromised_on=np.full(size, -1, dtype=np.int64),
    )


def add_frauds(config: HandbookConfig, tx: Transactions, rng: np.random.Generator) -> None:
    over = tx.amount > AMOUNT_LIMIT
    tx.fraud[over] = True
    tx.scenario[over] = SCENARIO_AMOUNT
    day = tx.day
    by_terminal = _index_by(tx.terminal, config.terminals)
    by_customer = _index_by(tx.customer, config.customers)
    last_day = int(day.max()) if len(tx) else 0
    for drawn_on in range(last_day):  # as the handbook: every day but the last
        terminals = rng.choice(config.terminals, size=TERMINALS_A_DAY, replace=False)
        rows = np.concatenate([by_terminal[t] for t in terminals]).astype(np.int64)
        rows = rows[(day[rows] >= drawn_on) & (day[rows] < drawn_on + TERMINAL_DAYS)]
        tx.fraud[rows] = True
        tx.scenario[rows] = SCENARIO_TERMINAL
        tx.compromised_on[rows] = drawn_on
    for drawn_on in range(last_day):
        customers = rng.choice(config.customers, size=CUSTOMERS_A_DAY, replace=False)
        rows = np.concatenate([by_customer[c] for c in customers]).astype(np.int64)
        rows = rows[(day[rows] >= drawn_on) & (day[rows] < drawn_on + CUSTOMER_DAYS)]
        chosen = rng.choice(rows, size=len(rows) // 3, replace=False)
        tx.amount[chosen] = np.round(tx.amount[chosen] * CUSTOMER_FACTOR, 2)
        tx.fraud[chosen] = True
        tx.scenario[chosen] = SCENARIO_CUSTOMER
        tx.compromised_on[chosen] = drawn_on


def _index_by(keys: NDArray[np.int64], size: int) -> list[NDArray[np.int64]]:
    """The rows of each key, in row order."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(size + 1))
    return [order[bounds[k] : bounds[k + 1]] for k in range(size)]
