"""The worker's allocator figures, and giving back the memory glibc keeps free."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from riskstream.agents.memory_usage import Trims, glibc_usage, memory_usage
from riskstream.streams.app import create_faust_app
from riskstream.streams.settings import Settings

MIB = 1 << 20
glibc_only = pytest.mark.skipif(not glibc_usage(), reason="glibc's malloc figures only")


def resident() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def churn_in_a_thread(blocks: int, size: int) -> list[bytes]:
    """What the core's thread does: blocks made in a thread of their own, most freed
    later; the few still in use (one in 64) leave holes no heap top gives back."""
    made: list[bytes] = []
    maker = threading.Thread(target=lambda: made.extend(bytes(size) for _ in range(blocks)))
    maker.start()
    maker.join()
    return made[::64]


@glibc_only
def test_a_trim_gives_back_what_a_thread_freed() -> None:
    kept = churn_in_a_thread(40_000, 1_000)  # 40 MB in blocks Python takes from glibc
    assert glibc_usage()["free"] >= 20 * MIB
    resident_before = resident()
    trims = Trims()
    trims.trim()
    # glibc still counts the pages as its own, but they are no longer resident.
    assert resident() <= resident_before - 20 * MIB
    assert trims.as_dict()["count"] == 1
    assert len(kept) == 625


@glibc_only
def test_the_figures_add_up() -> None:
    usage = memory_usage(Trims())
    glibc = usage["glibc"]
    assert glibc["in_use"] + glibc["free"] <= glibc["held"] + glibc["mmapped"]
    assert usage["python"]["blocks"] > 0
    assert usage["trims"] == {"count": 0, "skipped": 0, "ms_total": 0.0, "ms_max": 0.0}


@glibc_only
def test_a_trim_waits_until_enough_is_free() -> None:
    """Below the threshold a check does nothing (a trim holds the heaps' locks), above
    it the trim runs."""
    free = glibc_usage()["free"]
    trims = Trims(free_bytes=free + 1024 * MIB)
    trims.trim()
    assert trims.as_dict()["count"] == 0
    assert trims.as_dict()["skipped"] == 1
    kept = churn_in_a_thread(40_000, 1_000)
    trims.free_bytes = 20 * MIB
    assert glibc_usage()["free"] >= 20 * MIB
    trims.trim()
    assert trims.as_dict()["count"] == 1
    assert len(kept) == 625


def test_the_consumer_fetches_its_own_budget_not_the_record_limit(tmp_path: Path) -> None:
    """A poll decodes all that was fetched: the fetch size bounds that memory, and a
    record over it still comes (the broker returns a partition's first batch whole)."""
    settings = Settings(data_dir=tmp_path, load_pack=False, fetch_partition_max_bytes=2 * MIB)
    conf = create_faust_app(settings).conf
    assert conf.consumer_max_fetch_size == 2 * MIB
    assert conf.producer_max_request_size == settings.state_record_max_bytes > 2 * MIB
    assert Settings().fetch_partition_max_bytes == MIB
