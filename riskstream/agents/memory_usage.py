"""Where a worker's memory is, by allocator (``/stats/memory/``), and giving back what
glibc's malloc keeps.

The worker has three allocators. The native core's is mimalloc, inside the core and
counted by its state cache. glibc's malloc serves RocksDB and every Python object over
512 bytes (message and state bytes); its own figures say how much it holds and how much
of that is free. Python's small objects live in pymalloc's arenas. With
``PYTHONTRACEMALLOC`` set, the Python allocations that hold the most are listed too.

glibc keeps what is freed in the heap of the thread that allocated it and returns it to
the system only from the top of that heap. The core's thread makes a batch's outputs
(records, changelog values: Python bytes, many over 512 bytes) and the event loop frees
them later, so that thread's heap stays at its largest batch's size, mostly free (137 of
138 MiB after a 100,000-event backlog), and the main heap keeps the holes between live
blocks. ``malloc_trim`` gives the free pages back: checked every
``malloc_trim_interval_s``, done when more than ``malloc_trim_free_mb`` is free.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import time
import tracemalloc
from typing import Any


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


class Trims:
    """Gives glibc's free memory back once it passes ``free_bytes``, and counts what that
    took. A trim holds each heap's lock while it walks it (up to ~150 ms seen on a large
    one), so every thread that allocates waits meanwhile: trimming a few megabytes on a
    timer cost the event loop more latency than the memory was worth."""

    def __init__(self, free_bytes: int = 0) -> None:
        self.free_bytes = free_bytes
        self.count = 0
        self.skipped = 0
        self.seconds = 0.0
        self.max_seconds = 0.0

    def trim(self) -> None:
        if self.free_bytes > 0 and glibc_usage().get("free", 0) < self.free_bytes:
            self.skipped += 1
            return
        started = time.perf_counter()
        trim()
        took = time.perf_counter() - started
        self.count += 1
        self.seconds += took
        self.max_seconds = max(self.max_seconds, took)

    def as_dict(self) -> dict[str, float]:
        return {
            "count": self.count,
            "skipped": self.skipped,
            "ms_total": self.seconds * 1000,
            "ms_max": self.max_seconds * 1000,
        }


def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        return libc
    except (OSError, AttributeError):  # not glibc, or older than 2.33
        return None


_LIBC = _libc()


def glibc_usage() -> dict[str, int]:
    """glibc's malloc: bytes it holds from the system (heap arenas and mmapped blocks),
    of which in use and free in the arenas."""
    if _LIBC is None:
        return {}
    info = _LIBC.mallinfo2()
    return {
        "held": int(info.arena + info.hblkhd),
        "in_use": int(info.uordblks + info.hblkhd),
        "free": int(info.fordblks),
        "mmapped": int(info.hblkhd),
    }


def trim() -> bool:
    """Give glibc's free memory back to the system (``malloc_trim``)."""
    return bool(_LIBC is not None and _LIBC.malloc_trim(0))


def python_usage(top: int = 12) -> dict[str, Any]:
    """pymalloc's blocks in use; with tracemalloc on, its total and the biggest sites."""
    usage: dict[str, Any] = {"blocks": sys.getallocatedblocks()}
    if tracemalloc.is_tracing():
        current, peak = tracemalloc.get_traced_memory()
        usage["traced"] = current
        usage["traced_peak"] = peak
        stats = tracemalloc.take_snapshot().statistics("lineno")
        usage["top"] = [
            {"where": str(stat.traceback[0]), "bytes": stat.size, "count": stat.count}
            for stat in stats[:top]
        ]
    return usage


def memory_usage(trims: Trims | None = None) -> dict[str, Any]:
    usage: dict[str, Any] = {"glibc": glibc_usage(), "python": python_usage()}
    if trims is not None:
        usage["trims"] = trims.as_dict()
    return usage
