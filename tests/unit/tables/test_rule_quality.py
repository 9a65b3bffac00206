"""Per-rule precision and volume from verdicts (``tables.rule_quality``)."""

from __future__ import annotations

from typing import Any

import pytest

from riskstream.streams.events import from_epoch_ms
from riskstream.tables.books import ProfileBook
from riskstream.tables.rule_quality import DAY_MS, MAX_EVIDENCE_IDS, RuleQuality, wilson

T0 = 1_793_577_600_000  # 2026-11-02T00:00:00Z


def iso(ms: int) -> str:
    return from_epoch_ms(ms).isoformat().replace("+00:00", "Z")


def signal(
    n: int, trigger: str, *, rule: str = "r.a", version: int = 1, at_ms: int = T0,
    evidence: list[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "signal_id": f"sig_{rule}_{version}_{n}", "pattern": rule, "rule_id": rule,
        "rule_version": version, "entity_type": "account", "entity_id": "acc-1",
        "severity": 50, "evidence": evidence if evidence is not None else [trigger],
        "trigger_event_id": trigger, "detected_at": iso(at_ms),
        "expires_at": iso(at_ms + DAY_MS),
    }  # fmt: skip


@pytest.fixture
def book() -> ProfileBook:
    return ProfileBook()


@pytest.fixture
def quality(book: ProfileBook) -> RuleQuality:
    return RuleQuality(book.verdict)


def give(book: ProfileBook, quality: RuleQuality, target: str, label: str, at_ms: int) -> None:
    """A feedback event as a worker applies it: kept by the profiles, then the alerts
    standing on its transaction judged again."""
    book.apply_verdict(target, label, at_ms)
    quality.reconsider(target)


def figures(quality: RuleQuality, rule: str = "r.a", version: int = 1) -> dict[str, Any]:
    return quality.figures()[(rule, version)]


def test_a_verdict_after_the_signal_judges_it(quality: RuleQuality, book: ProfileBook) -> None:
    quality.apply_signal(signal(1, "t1"))
    quality.apply_signal(signal(2, "t2"))
    assert figures(quality)["judged"] == 0
    assert figures(quality)["precision"] is None
    give(book, quality, "t1", "fraud", T0 + 1000)
    got = figures(quality)
    assert (got["alerts"], got["judged"], got["fraud"], got["legit"]) == (2, 1, 1, 0)
    assert got["precision"] == 1.0
    # One fraud verdict out of one is not certainty.
    assert got["precision_low"] < 0.3
    assert got["precision_high"] == 1.0


def test_a_verdict_before_the_signal_counts_too(quality: RuleQuality, book: ProfileBook) -> None:
    give(book, quality, "t1", "legit", T0 - 5000)
    quality.apply_signal(signal(1, "t1"))
    got = figures(quality)
    assert (got["judged"], got["fraud"], got["legit"], got["precision"]) == (1, 0, 1, 0.0)


def test_a_later_verdict_replaces_the_earlier(quality: RuleQuality, book: ProfileBook) -> None:
    quality.apply_signal(signal(1, "t1"))
    give(book, quality, "t1", "legit", T0 + 1000)
    assert (figures(quality)["fraud"], figures(quality)["legit"]) == (0, 1)
    give(book, quality, "t1", "fraud", T0 + 2000)
    assert (figures(quality)["fraud"], figures(quality)["legit"]) == (1, 0)
    # An older verdict arriving late does not overturn the newer one.
    give(book, quality, "t1", "legit", T0 + 1500)
    assert (figures(quality)["fraud"], figures(quality)["legit"]) == (1, 0)


def test_verdicts_on_unknown_transactions_change_nothing(
    quality: RuleQuality, book: ProfileBook
) -> None:
    quality.apply_signal(signal(1, "t1"))
    give(book, quality, "nobody-alerted-on-this", "fraud", T0)
    got = figures(quality)
    assert (got["alerts"], got["judged"]) == (1, 0)


def test_an_alert_is_judged_by_its_evidence_too(quality: RuleQuality, book: ProfileBook) -> None:
    quality.apply_signal(signal(1, "t3", evidence=["t1", "t2", "t3"]))
    give(book, quality, "t1", "legit", T0)
    assert (figures(quality)["fraud"], figures(quality)["legit"]) == (0, 1)
    # Any fraud among the transactions it stands on makes it a true alert.
    give(book, quality, "t2", "fraud", T0)
    assert (figures(quality)["fraud"], figures(quality)["legit"]) == (1, 0)


def test_rule_versions_are_counted_apart(quality: RuleQuality, book: ProfileBook) -> None:
    quality.apply_signal(signal(1, "t1", version=1))
    quality.apply_signal(signal(1, "t2", version=2))
    quality.apply_signal(signal(1, "t3", rule="r.b"))
    give(book, quality, "t2", "fraud", T0)
    assert set(quality.figures()) == {("r.a", 1), ("r.a", 2), ("r.b", 1)}
    assert figures(quality, version=1)["judged"] == 0
    assert figures(quality, version=2)["fraud"] == 1


def test_the_same_signal_read_twice_is_one_alert(quality: RuleQuality) -> None:
    quality.apply_signal(signal(1, "t1"))
    quality.apply_signal(signal(1, "t1"))
    assert figures(quality)["alerts"] == 1


def test_memory_is_bounded_newest_kept(book: ProfileBook) -> None:
    quality = RuleQuality(book.verdict, keep_per_rule=3)
    for n in range(10):
        quality.apply_signal(signal(n, f"t{n}", at_ms=T0 + n))
    give(book, quality, "t0", "fraud", T0)  # its alert was dropped: no longer counted
    give(book, quality, "t9", "legit", T0)
    got = figures(quality)
    assert (got["alerts"], got["fraud"], got["legit"]) == (3, 0, 1)
    assert len(quality) == 3
    # The index of transactions holds the kept alerts' only.
    assert sorted(quality._by_transaction) == ["t7", "t8", "t9"]
    # Evidence ids are capped too: a signal citing thousands of events stays small.
    quality.apply_signal(signal(99, "t99", evidence=[f"e{i}" for i in range(5000)]))
    alert = quality._rules[("r.a", 1)].alerts[-1]
    assert len(alert.transactions) == MAX_EVIDENCE_IDS + 1
    assert alert.transactions[0] == "t99"


def test_the_lookback_drops_old_alerts_and_gives_a_rate(book: ProfileBook) -> None:
    quality = RuleQuality(book.verdict, lookback_ms=2 * DAY_MS)
    quality.apply_signal(signal(1, "t1", at_ms=T0))
    quality.apply_signal(signal(2, "t2", at_ms=T0 + DAY_MS))
    quality.apply_signal(signal(3, "t3", at_ms=T0 + 2 * DAY_MS))
    got = figures(quality)
    assert got["alerts"] == 3  # all within two days of the newest
    assert got["alerts_per_day"] == 1.5
    quality.apply_signal(signal(4, "t4", at_ms=T0 + 3 * DAY_MS))
    got = figures(quality)
    assert got["alerts"] == 3  # the first fell out
    give(book, quality, "t1", "fraud", T0)  # on the alert that fell out: nothing
    give(book, quality, "t2", "legit", T0)
    assert (figures(quality)["fraud"], figures(quality)["legit"]) == (0, 1)
    # A single alert is at most one a day, not thousands.
    single = RuleQuality(book.verdict)
    single.apply_signal(signal(1, "t1", rule="r.z"))
    assert single.figures()[("r.z", 1)]["alerts_per_day"] == 1.0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rule_id": "r", "rule_version": "x", "signal_id": "s", "detected_at": "2026-11-02T00:00Z",
         "trigger_event_id": "t"},
        {"rule_id": "r", "rule_version": 1, "signal_id": "s", "detected_at": "yesterday",
         "trigger_event_id": "t"},
        {"rule_id": "r", "rule_version": 1, "signal_id": "s", "detected_at": "2026-11-02T00:00Z",
         "trigger_event_id": "t", "evidence": 7},
        None,
        [1, 2],
    ],
)  # fmt: skip
def test_unreadable_signals_are_skipped_and_counted(quality: RuleQuality, body: Any) -> None:
    assert quality.apply_signal(body) is False
    assert quality.skipped == 1
    assert quality.figures() == {}


def test_wilson_interval() -> None:
    assert wilson(0, 0) is None
    low, high = wilson(1, 1)  # type: ignore[misc]
    assert 0.2 < low < 0.21 and high == 1.0
    low, high = wilson(50, 100)  # type: ignore[misc]
    assert 0.40 < low < 0.41 and 0.59 < high < 0.60
    low, high = wilson(0, 10)  # type: ignore[misc]
    assert low == 0.0 and 0.27 < high < 0.28
