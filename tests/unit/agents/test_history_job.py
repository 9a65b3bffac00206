"""Which events a scheduled build feeds: each exactly once, late ones included."""

from __future__ import annotations

import random

from riskstream.agents.history_job import fed_by


def test_every_event_is_fed_by_exactly_one_build() -> None:
    rng = random.Random(3)
    # Builds: (as_of, inputs_until), both growing; the first from an archive (no
    # inputs_until), as `profiles build --from-jsonl --publish` leaves it.
    builds: list[tuple[int, int | None]] = [(1_000, None)]
    for _ in range(6):
        as_of = builds[-1][0] + rng.randrange(1, 500)
        builds.append((as_of, as_of - rng.randrange(0, 100)))
    last_as_of, last_until = builds[-1]
    for _ in range(5_000):
        at = rng.randrange(1_001, last_as_of + 1)  # after the archive, by the last as_of
        ts = at + rng.choice([0, rng.randrange(0, 600)])  # appended on time, or late
        if last_until is not None and ts > last_until:
            continue  # not appended yet when the last build read: the next one feeds it
        fed = [
            k for k in range(1, len(builds))
            if fed_by(*builds[k], at, ts) and not fed_by(*builds[k - 1], at, ts)
        ]  # fmt: skip
        assert len(fed) == 1, (at, ts, fed)


def test_a_worker_build_is_as_of_the_start_of_its_settled_period() -> None:
    from riskstream.agents.history_cron import build_time  # noqa: PLC0415
    from riskstream.streams.settings import Settings  # noqa: PLC0415
    from riskstream.tables.history_replay import ReplayHistory  # noqa: PLC0415

    hourly = Settings(profiles_period_minutes=60, profiles_settle_s=60)
    hour = 3_600_000
    # The crontab runs a minute past the hour: the build is as of the hour.
    assert build_time(hourly, 100 * hour + 60_000) == 100 * hour
    # Run before its records settled, it is as of the period before.
    assert build_time(hourly, 100 * hour + 30_000) == 99 * hour
    # The replay takes its snapshots at those very times.
    replay = ReplayHistory(every_ms=hourly.profiles_period_ms)
    assert replay.in_force(100 * hour + 60_000).as_of_ms == 100 * hour
    daily = Settings(profiles_period_minutes=1440, profiles_settle_s=0)
    assert build_time(daily, 3 * 86_400_000 + 5) == 3 * 86_400_000
