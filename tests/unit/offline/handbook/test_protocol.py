"""The handbook's protocol: the split and its delay, the features' delay, card
precision@k."""

from __future__ import annotations

import numpy as np
import pytest

from riskstream.offline.handbook import protocol
from riskstream.offline.handbook.features import FEATURES, baseline_features
from riskstream.offline.handbook.generator import DAY_S, HandbookConfig, HandbookData, generate
from riskstream.offline.handbook.protocol import Split, card_precision_at_k, split_for, train_rows

CONFIG = HandbookConfig(seed=5, customers=300, terminals=600, days=60)


@pytest.fixture(scope="module")
def data() -> HandbookData:
    return generate(CONFIG)


def test_the_split_is_a_week_of_training_a_week_of_delay_a_week_of_test() -> None:
    assert split_for(183) == Split(115)  # the handbook's 2018-07-25
    short = split_for(60)
    assert (short.train_start, short.train_end, short.test_start, short.test_end) == (
        39, 46, 53, 60,
    )  # fmt: skip
    with pytest.raises(ValueError, match="too few"):
        split_for(20)


def test_no_test_week_transaction_is_trained_on(data: HandbookData) -> None:
    tx, split = data.transactions, split_for(CONFIG.days)
    train, test = train_rows(tx, split), protocol.test_rows(tx, split)
    assert tx.day[train].min() == split.train_start
    assert tx.day[train].max() == split.train_end - 1
    assert tx.day[test].min() == split.test_start
    assert not set(train.tolist()) & set(test.tolist())
    # the labels trained on are known before the test starts: each is due at its
    # transaction's time plus the delay
    assert (tx.seconds[train] + split.delay_days * DAY_S < split.test_start * DAY_S).all()


def test_cards_known_compromised_are_not_tested(data: HandbookData) -> None:
    tx, split = data.transactions, split_for(CONFIG.days)
    test = protocol.test_rows(tx, split)
    train = train_rows(tx, split)
    known_in_training = set(tx.customer[train][tx.fraud[train]].tolist())
    assert known_in_training
    assert not known_in_training & set(tx.customer[test].tolist())
    # a card with a fraud on the delay's first day is known from the second test day
    first_delay_day = (tx.day == split.train_end) & tx.fraud
    learnt = set(tx.customer[first_delay_day].tolist()) - known_in_training
    later = test[tx.day[test] >= split.test_start + 1]
    assert not learnt & set(tx.customer[later].tolist())


def test_terminal_risk_uses_only_labels_older_than_the_delay(data: HandbookData) -> None:
    tx = data.transactions
    matrix = baseline_features(tx, CONFIG.start.weekday())
    risk = [FEATURES.index(f"terminal_risk_{w}d") for w in (1, 7, 30)]
    # a label is delivered 7 days after its transaction: those of transactions from day
    # 49 on are unknown all through day 55, and must not move any feature then
    day = 55
    rows = np.flatnonzero(tx.day == day)
    hidden = tx.fraud.copy()
    hidden[tx.seconds >= (day - 6) * DAY_S] = False
    again = baseline_features(tx, CONFIG.start.weekday(), known_fraud=hidden)
    assert np.array_equal(matrix[rows][:, risk], again[rows][:, risk])
    # while labels older than the delay do move it
    older = tx.fraud.copy()
    older[(tx.seconds > (day - 30) * DAY_S) & (tx.seconds <= (day - 8) * DAY_S)] = False
    moved = baseline_features(tx, CONFIG.start.weekday(), known_fraud=older)
    assert not np.array_equal(matrix[rows][:, risk], moved[rows][:, risk])


def test_customer_windows_count_this_transaction_and_those_before() -> None:
    tx = generate(HandbookConfig(seed=1, customers=20, terminals=50, days=35)).transactions
    matrix = baseline_features(tx, 0)
    count_1d = FEATURES.index("customer_count_1d")
    mean_30d = FEATURES.index("customer_avg_amount_30d")
    for row in range(0, len(tx), 97):
        same = tx.customer == tx.customer[row]
        before = same & (np.arange(len(tx)) <= row)
        in_day = before & (tx.seconds > tx.seconds[row] - DAY_S)
        in_month = before & (tx.seconds > tx.seconds[row] - 30 * DAY_S)
        assert matrix[row, count_1d] == in_day.sum()
        assert matrix[row, mean_30d] == pytest.approx(tx.amount[in_month].mean())


def test_card_precision_at_k_by_hand() -> None:
    # day 0: cards 1 (fraud, 0.9), 2 (legit, 0.8 and 0.1), 3 (fraud, 0.2)
    # day 1: card 1 again (fraud, 0.95: already detected, left out), 3 (0.7), 4 (legit, 0.5)
    days = np.array([0, 0, 0, 0, 1, 1, 1])
    cards = np.array([1, 2, 2, 3, 1, 3, 4])
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.95, 0.7, 0.5])
    fraud = np.array([True, False, False, True, True, True, False])
    mean, per_day = card_precision_at_k(days, cards, scores, fraud, k=2)
    # day 0: top 2 cards are 1 (fraud) and 2 (legit): 1/2
    # day 1: card 1 was detected; top 2 are 3 (fraud) and 4 (legit): 1/2
    assert per_day == [0.5, 0.5]
    assert mean == 0.5
    # k larger than the cards of a day still divides by k; on day 1 cards 1 and 3 were
    # both detected on day 0, so only card 4 (legit) is left
    _mean, wide = card_precision_at_k(days, cards, scores, fraud, k=4)
    assert wide == [0.5, 0.0]
