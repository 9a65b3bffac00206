"""Long-horizon profiles: the builder's state, its summaries, and replay snapshots."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from riskstream.streams.events import Event, Feedback, Geo, Transaction, to_epoch_ms
from riskstream.streams.settings import get_settings
from riskstream.tables import histogram
from riskstream.tables.history import DAY_MS, KEEP_DAYS, HistoryBuilder, HistoryConfig
from riskstream.tables.history_book import decode, encode
from riskstream.tables.history_replay import ReplayHistory
from riskstream.tables.history_summary import take_snapshot

START = datetime(2026, 1, 1, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return to_epoch_ms(moment)


def payment(
    event_id: str,
    at: datetime,
    amount: float = 20.0,
    *,
    account: str = "acc-1",
    merchant: str = "m-1",
    device: str | None = "dev-1",
    ip: str | None = "10.0.0.1",
    kind: str = "payment",
) -> Transaction:
    return Transaction(
        event_id=event_id, occurred_at=at, account_id=account, type=kind,  # type: ignore[arg-type]
        counterparty_id=merchant, amount=Decimal(str(round(amount, 2))), currency="EUR",
        device_id=device, ip=ip, geo=Geo(lat=48.85, lon=2.35, country="FR"),
    )  # fmt: skip


def verdict(event_id: str, at: datetime, target: str, label: str = "fraud") -> Feedback:
    return Feedback(
        event_id=event_id, occurred_at=at, account_id="acc-1", type="feedback",
        target_event_id=target, label=label,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quantiles_are_within_the_stated_error_of_numpys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    amounts = np.round(rng.lognormal(mean=3.0, sigma=1.5, size=1 + seed * 997), 2) + 0.01
    counts: histogram.Histogram = {}
    for amount in amounts:
        histogram.add(counts, float(amount))
    qs = (0.5, 0.9, 0.95, 0.99)
    for q, ours in zip(qs, histogram.quantiles(counts, qs), strict=True):
        exact = float(np.quantile(amounts, q, method="inverted_cdf"))
        assert ours is not None
        assert abs(ours / exact - 1) <= histogram.RELATIVE_ERROR + 1e-12, (q, ours, exact)
    assert histogram.RELATIVE_ERROR < 0.01
    assert histogram.quantiles({}, qs) == [None] * 4


def test_an_account_profile_over_its_windows() -> None:
    builder = HistoryBuilder()
    for day in range(40):
        builder.feed(payment(f"t{day}", START + timedelta(days=day, hours=9), 10.0 + day))
    as_of = ms(START + timedelta(days=40))
    profile = take_snapshot(builder, as_of).lookup("account", "acc-1")
    assert profile["txn_count_7d"] == 7 and profile["txn_count_30d"] == 30
    assert profile["txn_count"] == profile["txn_count_90d"] == 40
    assert profile["amount_count"] == 40 and profile["amount_mean_7d"] == pytest.approx(46.0)
    assert profile["amount_median_7d"] == pytest.approx(46.0, rel=0.01)
    assert profile["usual_hours"] == ["9"] and profile["usual_merchants"] == ["m-1"]
    assert profile["known_devices"] == ["dev-1"] and profile["ip_prefixes"] == ["10.0.0.0/24"]
    assert profile["places"] == ["48,2"] and profile["countries"] == ["FR"]
    assert profile["days_since_first_seen"] == pytest.approx(40 - 9 / 24)
    merchant = take_snapshot(builder, as_of).lookup("merchant", "m-1")
    assert merchant["accounts"] == 1 and merchant["txn_count_7d"] == 7
    assert take_snapshot(builder, as_of).lookup("account", "nobody") == {}


def test_a_verdict_given_after_as_of_does_not_count() -> None:
    """The feedback delay: a replay's snapshot on day 2 does not know the verdict of day 3
    on a transaction of day 1; the one on day 4 does."""
    events: list[Event] = [
        payment("t1", START + timedelta(hours=10)),
        payment("t2", START + timedelta(days=1, hours=10)),
        verdict("f1", START + timedelta(days=3, hours=8), "t1"),
        payment("t3", START + timedelta(days=2, hours=10)),
        payment("t4", START + timedelta(days=4, hours=10)),
    ]
    events.sort(key=lambda event: event.occurred_ms)
    replay = ReplayHistory()
    seen = {event.event_id: replay.observe(event) for event in events}
    assert seen["t3"].lookup("merchant", "m-1")["fraud_verdicts"] == 0
    assert seen["t4"].lookup("merchant", "m-1")["fraud_verdicts"] == 1
    assert seen["t4"].lookup("device", "dev-1")["fraud_verdicts"] == 1
    # A build as of a time between the transaction and its verdict, fed what was known.
    builder = HistoryBuilder()
    as_of = ms(START + timedelta(days=3))
    for event in events:
        if event.occurred_ms <= as_of:
            builder.feed(event)
    assert take_snapshot(builder, as_of).lookup("merchant", "m-1")["fraud_verdicts"] == 0


def test_a_replay_snapshot_holds_only_what_was_known_before_its_midnight() -> None:
    replay = ReplayHistory(every_ms=DAY_MS)
    first = replay.observe(payment("t1", START + timedelta(hours=1)))
    assert first.lookup("account", "acc-1") == {}  # nothing was known before it
    same_day = replay.observe(payment("t2", START + timedelta(hours=2)))
    assert same_day is first and first.lookup("account", "acc-1") == {}
    next_day = replay.observe(payment("t3", START + timedelta(days=1, hours=1)))
    assert next_day.lookup("account", "acc-1")["txn_count"] == 2
    assert replay.snapshots == 2


def test_replay_snapshots_follow_the_profiles_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKSTREAM_PROFILES_PERIOD_MINUTES", "15")
    get_settings.cache_clear()
    try:
        replay = ReplayHistory()
    finally:
        get_settings.cache_clear()
    assert replay.every_ms == 15 * 60_000
    first = replay.observe(payment("t1", START + timedelta(minutes=1)))
    later = replay.observe(payment("t2", START + timedelta(minutes=14)))
    assert later is first and first.lookup("account", "acc-1") == {}
    # The next quarter's snapshot, as of its start, knows both.
    next_quarter = replay.observe(payment("t3", START + timedelta(minutes=15)))
    assert next_quarter.as_of_ms == ms(START + timedelta(minutes=15))
    assert next_quarter.lookup("account", "acc-1")["txn_count"] == 2
    assert replay.snapshots == 2


def test_by_default_replay_snapshots_are_hourly() -> None:
    replay = ReplayHistory()
    assert replay.every_ms == 3_600_000
    first = replay.observe(payment("t1", START + timedelta(minutes=5)))
    assert replay.observe(payment("t2", START + timedelta(hours=1))) is not first


def test_one_verdict_on_a_small_merchant_is_not_a_certainty() -> None:
    builder = HistoryBuilder(HistoryConfig(prior_fraud_rate=0.01, prior_strength=20))
    builder.feed(payment("t1", START))
    builder.feed(verdict("f1", START + timedelta(hours=1), "t1"))
    rate = take_snapshot(builder, ms(START + timedelta(days=1))).lookup("merchant", "m-1")
    assert rate["fraud_verdicts"] == 1
    assert rate["fraud_rate"] == pytest.approx((1 + 0.2) / (1 + 20), abs=1e-6)
    # A later legit verdict on the same transaction replaces the fraud one.
    builder.feed(verdict("f2", START + timedelta(hours=2), "t1", "legit"))
    again = take_snapshot(builder, ms(START + timedelta(days=1))).lookup("merchant", "m-1")
    assert again["fraud_verdicts"] == 0 and again["legit_verdicts"] == 1


def random_events(seed: int, days: int) -> Iterator[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for number in range(days * 30):
        at = START + timedelta(seconds=rng.uniform(0, days * 86_400))
        events.append(payment(
            f"t{number}", at, rng.lognormvariate(3, 1), account=f"acc-{rng.randrange(8)}",
            merchant=f"m-{rng.randrange(12)}", device=f"dev-{rng.randrange(10)}",
            ip=f"10.0.{rng.randrange(4)}.{rng.randrange(200)}",
            kind=rng.choice(["payment", "transfer", "top_up"]),
        ))  # fmt: skip
    for number, target in enumerate(rng.sample(events, 40)):
        assert isinstance(target, Transaction)
        at = target.occurred_at + timedelta(days=rng.uniform(0.1, 20))
        events.append(Feedback(
            event_id=f"f{number}", occurred_at=at, account_id=target.account_id,
            type="feedback", target_event_id=target.event_id,
            label=rng.choice(["fraud", "fraud", "legit"]),
        ))  # fmt: skip
    events.sort(key=lambda event: event.occurred_ms)
    yield from events


def test_settled_windows_end_the_label_delay_before_as_of() -> None:
    """A merchant with one payment a day for 20 days, the first two reported fraud: the
    30-day rate counts the fresh, unjudged days as clean; the settled windows end three
    days back (the configured delay) and hold only days whose verdicts are in."""
    builder = HistoryBuilder(HistoryConfig(label_delay_days=3))
    for day in range(20):
        builder.feed(payment(f"t{day}", START + timedelta(days=day, hours=9)))
    for day in range(2):
        builder.feed(verdict(f"f{day}", START + timedelta(days=19, hours=10), f"t{day}"))
    as_of = ms(START + timedelta(days=20))  # days 0-19 done; settled: days up to 16
    merchant = take_snapshot(builder, as_of).lookup("merchant", "m-1")
    assert merchant["txn_count_30d"] == 20
    assert (merchant["txn_count_settled_1d"], merchant["fraud_verdicts_settled_1d"]) == (1, 0)
    assert merchant["txn_count_settled_7d"] == 7  # days 10-16
    assert merchant["txn_count_settled_30d"] == 17  # days 0-16
    assert merchant["fraud_verdicts_settled_30d"] == 2
    assert merchant["fraud_rate_settled_30d"] == pytest.approx((2 + 0.2) / (17 + 20), abs=1e-6)
    # Accounts do not get them (a card's own fraud blocks it; its payees carry the risk).
    assert "txn_count_settled_7d" not in take_snapshot(builder, as_of).lookup("account", "acc-1")
    # Without a delay, the settled windows are the plain ones.
    plain = HistoryBuilder(HistoryConfig(label_delay_days=0))
    for event in (payment("t0", START), verdict("f0", START + timedelta(hours=1), "t0")):
        plain.feed(event)
    fresh = take_snapshot(plain, ms(START + timedelta(days=1))).lookup("merchant", "m-1")
    assert fresh["fraud_verdicts_settled_1d"] == fresh["fraud_verdicts_7d"] == 1


@pytest.mark.parametrize("delay", [-1, 61])
def test_a_label_delay_out_of_range_is_refused(delay: int) -> None:
    with pytest.raises(ValueError, match="label_delay_days"):
        HistoryConfig(label_delay_days=delay)


def test_an_incremental_build_equals_a_full_build() -> None:
    """The second build starts from the first one's published records (state through
    JSON) and the events since its as_of: the same profiles as one build of everything."""
    events = list(random_events(seed=5, days=120))
    first_as_of = ms(START + timedelta(days=100, hours=7))
    second_as_of = ms(START + timedelta(days=130))
    full = HistoryBuilder()
    for event in events:
        full.feed(event)
    expected = take_snapshot(full, second_as_of)

    earlier = HistoryBuilder()
    for event in events:
        if event.occurred_ms <= first_as_of:
            earlier.feed(event)
    published = take_snapshot(earlier, first_as_of)
    resumed = HistoryBuilder()
    for key, profile in published.profiles.items():
        raw_key, value, _ = encode(key, profile, first_as_of, earlier.entities[key], 1 << 22)
        entity, body = decode(raw_key, value)
        assert body is not None and body["as_of_ms"] == first_as_of
        resumed.load(entity, body["state"])
    for event in events:
        if event.occurred_ms > first_as_of:
            resumed.feed(event)
    got = take_snapshot(resumed, second_as_of)
    assert got.profiles == expected.profiles
    assert any(profile["fraud_verdicts"] for profile in got.profiles.values())


def test_the_state_stays_bounded() -> None:
    config = HistoryConfig(set_cap=5, accounts_cap=7, recent_cap=50)
    builder = HistoryBuilder(config)
    for number in range(400 * 3):
        at = START + timedelta(hours=8 * number)
        builder.feed(payment(
            f"t{number}", at, account="acc-1" if number % 2 else f"acc-{number}",
            merchant=f"m-{number}", device=f"dev-{number}", ip=f"10.{number % 250}.0.1",
        ))  # fmt: skip
    account = builder.entities[("account", "acc-1")]
    assert len(account.days) <= KEEP_DAYS
    assert len(account.recent) == 50
    assert all(len(ids) <= 5 for day in account.days.values() for ids in day.sets.values())
    builder.prune(ms(START + timedelta(hours=8 * 1200)))
    newest_day = ms(START + timedelta(hours=8 * 1200)) // DAY_MS
    assert all(
        index > newest_day - KEEP_DAYS
        for entity in builder.entities.values()
        for index in entity.days
    )
    assert len(builder.entities) < 4 * KEEP_DAYS * 3  # old single-use ids forgotten


@pytest.mark.parametrize(
    "state",
    [
        {"first_ms": 0, "days": {"1": {"n": 1, "an": 1, "as": 5.0, "h": {"99999": 1}}}},
        {"first_ms": 0, "days": {"1": {"n": -1}}},
        {"first_ms": 0, "days": {"1": {"n": 1, "hr": {"24": 1}}}},
        {"first_ms": 0, "days": {"1": {"n": 1, "as": float("inf")}}},
        {"first_ms": "0", "days": {}},
        {"first_ms": 0, "days": {}, "recent": [["t1", 1, [], "maybe"]]},
        {"days": {}},
    ],
)
def test_a_hostile_state_is_refused(state: dict[str, object]) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        HistoryBuilder().load(("account", "acc-1"), state)
