import itertools

import pytest
from pydantic import ValidationError

from riskstream.streams.settings import Settings


def test_exactly_once_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="exactly_once is refused"):
        Settings(processing_guarantee="exactly_once")
    assert Settings(processing_guarantee="at_least_once").processing_guarantee == "at_least_once"


def test_a_guarantee_faust_does_not_know_is_refused() -> None:
    with pytest.raises(ValidationError, match="processing_guarantee"):
        Settings(processing_guarantee="at_most_once")  # type: ignore[arg-type]


@pytest.mark.parametrize("minutes", [1, 5, 15, 30, 60, 120, 360, 1440])
def test_a_profiles_period_that_divides_a_day_has_its_crontab(minutes: int) -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    from croniter import croniter  # noqa: PLC0415

    settings = Settings(profiles_period_minutes=minutes, profiles_settle_s=60)
    assert settings.profiles_period_ms == minutes * 60_000
    start = datetime(2026, 12, 7, tzinfo=UTC)
    runs = croniter(settings.profiles_cron, start)
    times = [runs.get_next(datetime) for _ in range(3)]
    # Each period once, a minute after it starts (the records it reads have settled).
    lag = 1 if minutes > 1 else 0
    gaps = {(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)}
    assert gaps == {minutes * 60}
    assert all((t.hour * 60 + t.minute) % minutes == lag for t in times)


@pytest.mark.parametrize("minutes", [0, 7, 45, 90, 420, 1441, 2880])
def test_a_profiles_period_that_does_not_divide_a_day_is_refused(minutes: int) -> None:
    with pytest.raises(ValidationError, match="profiles_period_minutes"):
        Settings(profiles_period_minutes=minutes)


def test_the_default_profiles_period_is_hourly() -> None:
    assert Settings().profiles_period_minutes == 60
