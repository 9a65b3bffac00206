"""A process's resident memory by kind of mapping (``/proc/PID/smaps``, Linux).

The worker's allocators each map memory their own way, so the mappings say which holds
what: mimalloc (the native core) reserves arenas of 1 GiB and more; glibc's malloc
(RocksDB, Python objects over 512 bytes) grows the ``[heap]`` and maps 64 MiB heaps for
other threads; pymalloc (Python's small objects) maps arenas of 1 MiB, which land among
the rest of the anonymous mappings (thread stacks, glibc's large blocks).
"""

from __future__ import annotations

from pathlib import Path

GIB = 1 << 30
ARENA = 64 << 20  # glibc's HEAP_MAX_SIZE on 64-bit


def resident_by_kind(pid: int) -> dict[str, int]:
    """Resident bytes: ``files`` (code, data files), ``heap`` (glibc's main arena),
    ``glibc_arenas`` (other threads' heaps), ``reserved_1g`` (mappings of 1 GiB and more:
    mimalloc's arenas), ``other_anonymous`` (pymalloc, stacks, large blocks)."""
    kinds = {"files": 0, "heap": 0, "glibc_arenas": 0, "reserved_1g": 0, "other_anonymous": 0}
    text = Path(f"/proc/{pid}/smaps").read_text()
    kind = "files"
    for line in text.splitlines():
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and not head[0].endswith(":"):
            start, end = (int(part, 16) for part in head[0].split("-"))
            path = head[5] if len(head) > 5 else ""
            if path.startswith("/"):
                kind = "files"
            elif path == "[heap]":
                kind = "heap"
            elif path.startswith("["):
                kind = "other_anonymous"
            elif end - start >= GIB:
                kind = "reserved_1g"
            elif start % ARENA == 0 and end - start <= ARENA:
                kind = "glibc_arenas"
            else:
                kind = "other_anonymous"
        elif head[0] == "Rss:":
            kinds[kind] += int(head[1]) * 1024
    return kinds
