"""The handbook's simulator does what its description says."""

from __future__ import annotations

import numpy as np
import pytest

from riskstream.offline.handbook.generator import (
    AMOUNT_LIMIT,
    CUSTOMER_DAYS,
    DAY_S,
    SCENARIO_CUSTOMER,
    SCENARIO_TERMINAL,
    TERMINAL_DAYS,
    HandbookConfig,
    HandbookData,
    generate,
)

CONFIG = HandbookConfig(seed=3, customers=300, terminals=600, days=60)


@pytest.fixture(scope="module")
def data() -> HandbookData:
    return generate(CONFIG)


def test_every_amount_above_220_is_fraud(data: HandbookData) -> None:
    tx = data.transactions
    over = tx.amount > AMOUNT_LIMIT
    assert over.any()
    assert tx.fraud[over].all()


def test_a_compromised_terminal_is_fraud_for_its_28_days(data: HandbookData) -> None:
    tx = data.transactions
    marked = np.flatnonzero(tx.scenario == SCENARIO_TERMINAL)
    assert len(marked) > 0
    for row in marked[:: max(1, len(marked) // 40)]:
        drawn_on = tx.compromised_on[row]
        same = (tx.terminal == tx.terminal[row]) & (tx.day >= drawn_on)
        inside = same & (tx.day < drawn_on + TERMINAL_DAYS)
        assert tx.fraud[inside].all()  # every transaction there in its 28 days
    # and nothing of a terminal's is marked by its compromise outside the 28 days
    days_after = tx.day[marked] - tx.compromised_on[marked]
    assert days_after.min() >= 0
    assert days_after.max() < TERMINAL_DAYS


def test_a_compromised_card_has_a_third_of_its_14_days_multiplied(data: HandbookData) -> None:
    tx = data.transactions
    marked = np.flatnonzero(tx.scenario == SCENARIO_CUSTOMER)
    assert len(marked) > 0
    days_after = tx.day[marked] - tx.compromised_on[marked]
    assert days_after.min() >= 0
    assert days_after.max() < CUSTOMER_DAYS
    # a third of the compromised cards' transactions in their windows, roughly
    customers = set(tx.customer[marked].tolist())
    share = len(marked) / np.isin(tx.customer, list(customers)).sum()
    assert 0.05 < share < 0.34
    # multiplied by 5: far above what these customers usually spend
    usual = data.profiles.mean_amount[tx.customer[marked]]
    assert np.median(tx.amount[marked] / usual) > 3


def test_customers_pay_at_terminals_within_the_radius(data: HandbookData) -> None:
    tx = data.transactions
    home = data.profiles.customer_xy[tx.customer]
    shop = data.profiles.terminal_xy[tx.terminal]
    assert np.sqrt(((home - shop) ** 2).sum(axis=1)).max() < CONFIG.radius


def test_transactions_are_in_time_order_within_the_days(data: HandbookData) -> None:
    tx = data.transactions
    assert (np.diff(tx.seconds) >= 0).all()
    assert tx.seconds.min() >= 0
    assert tx.seconds.max() < CONFIG.days * DAY_S
    assert (tx.amount > 0).all()


def test_a_seed_gives_the_same_data_and_another_seed_other_data(data: HandbookData) -> None:
    again = generate(CONFIG).transactions
    tx = data.transactions
    for name in ("customer", "terminal", "seconds", "amount", "fraud", "scenario"):
        assert np.array_equal(getattr(tx, name), getattr(again, name)), name
    other = generate(HandbookConfig(seed=4, customers=300, terminals=600, days=60)).transactions
    assert len(other) != len(tx) or not np.array_equal(other.amount, tx.amount)
