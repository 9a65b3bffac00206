"""Repeated library warnings: the first one logged, then one summary per interval."""

from __future__ import annotations

import logging

import pytest

from riskstream.streams.quiet_logs import RepeatFilter, cover, install


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def library(name: str, repeat_filter: RepeatFilter) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.filters.clear()
    logger.addFilter(repeat_filter)
    return logger


def test_a_flood_gives_its_first_line_then_one_summary_per_interval(
    logged: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limiter = RepeatFilter(30.0, clock)
    conn = library("aiokafka.test-flood", limiter)
    for n in range(20_000):  # a 20 s outage at 1,000 a second
        clock.now = n / 1000
        conn.error("Unable connect to node with id %s: %s", 1, f"Connect call failed {n}")
    clock.now = 30.0
    limiter.flush()
    lines = [record.getMessage() for record in logged.records]
    assert lines[0] == "Unable connect to node with id 1: Connect call failed 0"
    assert len(lines) == 2
    assert lines[1].startswith("19999 more like this from aiokafka.test-flood in the last 30 s")
    assert lines[1].endswith("Connect call failed 19999")
    assert logged.records[1].levelno == logging.ERROR
    assert limiter.held_total == 19_999


def test_a_long_flood_is_summed_up_once_per_interval(logged: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    limiter = RepeatFilter(10.0, clock)
    log = library("aiokafka.test-long", limiter)
    for n in range(1000):  # 100 s at 10 a second
        clock.now = n / 10
        log.error("Failed fetch messages from %s: %s", 1, "NodeNotReadyError")
    assert 10 <= len(logged.records) <= 11


def test_kinds_are_told_apart_and_numbers_do_not_make_a_new_kind(
    logged: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limiter = RepeatFilter(30.0, clock)
    log = library("faust.test-kinds", limiter)
    for n in range(50):
        log.warning(f"producer buffer full size {n}")  # Faust formats it itself
        log.info(f"producer flush took {n / 7}")
        log.error("Heartbeat failed: %s", n)
        log.debug("not held back: %s", n)
    assert [r.getMessage() for r in logged.records if r.levelno >= logging.INFO] == [
        "producer buffer full size 0",
        "producer flush took 0.0",
        "Heartbeat failed: 0",
    ]
    assert len([r for r in logged.records if r.levelno == logging.DEBUG]) == 50


def test_a_kind_quiet_for_an_interval_shows_again(logged: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    limiter = RepeatFilter(30.0, clock)
    log = library("aiokafka.test-again", limiter)
    log.error("Marking the coordinator dead")
    clock.now = 3600.0
    limiter.flush()
    log.error("Marking the coordinator dead")
    assert len(logged.records) == 2
    assert limiter.held_total == 0


def test_install_covers_the_library_loggers_once() -> None:
    child = logging.getLogger("aiokafka.test-install.child")
    first = install(30.0)
    assert first in child.filters and first in logging.getLogger("faust").filters
    second = install(30.0)
    cover(second)
    assert [f for f in child.filters if isinstance(f, RepeatFilter)] == [second]
    assert first not in logging.getLogger("riskstream").filters
