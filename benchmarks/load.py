"""An open-loop HTTP load generator: requests leave at fixed arrival times on the clock,
whether or not earlier ones have returned, and each latency is measured from its
request's scheduled time, so time spent queued (in the server, or waiting here for a
free connection) counts: no coordinated omission.

One generator is ``--processes`` processes, each an event loop of its own sending its
share of the arrivals (process ``p`` of ``P`` sends arrivals ``p, p + P, p + 2P ...``)
over keep-alive HTTP/1.1 connections it opens as needed (at most ``--connections`` per
target), one request in flight on each. Arrival ``k`` goes to target ``k mod T``: round
robin over the targets, the client-side load balancer. Plain asyncio protocols, not an
HTTP client library: a request costs this side ~30-60 µs of CPU, so the generator itself
is rarely what limits the rate; each process reports its own CPU time per request and
how late it sent (``lag``), which tell when it was.

    python -m benchmarks.load --target 127.0.0.1:8080 --rate 2000 --seconds 10 \
        --processes 2 --token T --out result.json
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TIMEOUT_S = 10.0  # a request unanswered this long is an error
DRAIN_S = 15.0  # after the last arrival, how long stragglers are waited for
UNJUDGED = b'"score":-1'  # an answer, but "cannot judge" (recovering, stale ...)


def body(account: str, number: int, tag: str, now: str) -> bytes:
    """A payment to score; every event id is new (a repeat gets the remembered answer),
    amounts vary (1.00 to 9,973.00: one amount would flatter whatever is remembered by
    value)."""
    amount = f"{number * 7919 % 997_300 / 100 + 1:.2f}"
    return (
        f'{{"event_id":"load-{tag}-{number}","type":"payment","occurred_at":"{now}",'
        f'"account_id":"{account}","amount":"{amount}","currency":"CNY",'
        f'"device_id":"dev-{account}"}}'
    ).encode()


class Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.scheduled = 0.0
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, request: bytes, scheduled: float) -> None:
        assert self.transport is not None
        self.scheduled = scheduled
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self.buffer[:head_end]).lower()
        start = head.find(b"content-length:")
        length = 0
        if start >= 0:
            end = head.find(b"\r\n", start)
            length = int(head[start + 15 : end if end >= 0 else len(head)])
        if len(self.buffer) < head_end + 4 + length:
            return
        status = int(head[9:12])
        if self.buffer.find(UNJUDGED, head_end, head_end + 4 + length) >= 0:
            self.pool.tally.unjudged += 1
        del self.buffer[: head_end + 4 + length]
        self.pool.done(self, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.lost(self)


@dataclass(slots=True)
class Tally:
    """What one process saw: latencies (ms from the scheduled time) and its errors."""

    latencies: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    lag: list[float] = field(default_factory=list)  # ms each arrival left after its time
    unjudged: int = 0  # answers of -1


class Pool:
    """The connections to one target; arrivals wait here (the wait counted) for one."""

    def __init__(self, host: str, port: int, limit: int, header: bytes, tally: Tally) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.header = header
        self.tally = tally
        self.idle: list[Connection] = []
        self.busy: set[Connection] = set()
        self.opening = 0
        self.waiting: collections.deque[tuple[bytes, float]] = collections.deque()
        self.outstanding = 0

    def submit(self, payload: bytes, scheduled: float) -> None:
        self.outstanding += 1
        request = self.header + str(len(payload)).encode() + b"\r\n\r\n" + payload
        if self.idle:
            self._send(self.idle.pop(), request, scheduled)
            return
        self.waiting.append((request, scheduled))
        if len(self.busy) + len(self.idle) + self.opening < self.limit:
            self.opening += 1
            asyncio.get_running_loop().create_task(self._open())

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                lambda: Connection(self), self.host, self.port
            )
        except OSError as error:
            self.opening -= 1
            self.tally.errors[f"connect: {error.strerror or error}"] += 1
            if self.waiting:  # fail the oldest waiting arrival, not all of them
                self.waiting.popleft()
                self.outstanding -= 1
            return
        self.opening -= 1
        self._next(connection)

    def _send(self, connection: Connection, request: bytes, scheduled: float) -> None:
        self.busy.add(connection)
        connection.send(request, scheduled)

    def _next(self, connection: Connection) -> None:
        if self.waiting:
            request, scheduled = self.waiting.popleft()
            self._send(connection, request, scheduled)
        else:
            self.idle.append(connection)

    def done(self, connection: Connection, status: int) -> None:
        self.tally.latencies.append((time.perf_counter() - connection.scheduled) * 1000)
        if status != 200:
            self.tally.errors[f"HTTP {status}"] += 1
        self.outstanding -= 1
        self.busy.discard(connection)
        self._next(connection)

    def lost(self, connection: Connection) -> None:
        if connection in self.busy:
            self.busy.discard(connection)
            self.outstanding -= 1
            self.tally.errors["connection lost"] += 1
        elif connection in self.idle:
            self.idle.remove(connection)

    def expire(self, older_than: float) -> None:
        """Requests still unanswered past the timeout: errors, their connections closed."""
        for connection in list(self.busy):
            if connection.scheduled < older_than and connection.transport is not None:
                connection.transport.abort()  # connection_lost counts it
        while self.waiting and self.waiting[0][1] < older_than:
            self.waiting.popleft()
            self.outstanding -= 1
            self.tally.errors["timeout"] += 1

    def close(self) -> None:
        for connection in [*self.idle, *self.busy]:
            if connection.transport is not None:
                connection.transport.close()


def header(host: str, port: int, path: str, token: str) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
        "Content-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: "
    ).encode()


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    pools = []
    for target in args.target:
        host, _, port = target.rpartition(":")
        pools.append(Pool(host, int(port), args.connections, header(host, int(port),
                          args.path, args.token), tally))  # fmt: skip
    total = int(args.rate * args.seconds)
    mine = range(args.index, total, args.processes)
    tag = f"{uuid.uuid4().hex[:8]}-{args.index}"
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    # Wall-clock start shared by every process, then the monotonic clock from there.
    begin = time.perf_counter() + max(0.0, args.start - time.time())
    cpu0 = time.process_time()
    for k in mine:
        scheduled = begin + k / args.rate
        delay = scheduled - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        sent = time.perf_counter()
        tally.lag.append((sent - scheduled) * 1000)
        pool = pools[k % len(pools)]
        pool.submit(body(f"acct-{k % args.accounts:06d}", k, tag, now), scheduled)
        if k % 1000 < args.processes:
            for each in pools:
                each.expire(time.perf_counter() - TIMEOUT_S)
    last = begin + (total - 1) / args.rate
    while any(pool.outstanding for pool in pools) and time.perf_counter() < last + DRAIN_S:
        for pool in pools:
            pool.expire(time.perf_counter() - TIMEOUT_S)
        await asyncio.sleep(0.01)
    finished = time.perf_counter()
    cpu = time.process_time() - cpu0
    unanswered = sum(pool.outstanding for pool in pools)
    if unanswered:
        tally.errors["unanswered"] += unanswered
    for pool in pools:
        pool.close()
    return {
        "sent": len(mine), "answered": len(tally.latencies), "errors": dict(tally.errors),
        "unjudged": tally.unjudged,
        "latencies_ms": tally.latencies, "lag_ms": tally.lag, "cpu_s": cpu,
        "began": begin, "finished": finished,
        "connections": sum(len(p.idle) + len(p.busy) for p in pools),
    }  # fmt: skip


# --- the parent's side: several processes, their results merged -------------------------


def quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values (nearest rank); NaN for none."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(slots=True)
class Result:
    """One open-loop run, all processes merged."""

    rate: float
    seconds: float
    targets: int
    processes: int
    sent: int
    answered: int
    errors: dict[str, int]
    unjudged: int  # answered -1 (cannot judge)
    achieved: float  # answered with 200 per second, first scheduled arrival to last answer
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    lag_p99_ms: float  # how late the generator sent, p99: high = it is the bottleneck
    generator_cpu_us: float  # the generator's CPU per request, all processes

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def run(
    targets: Sequence[str], rate: float, seconds: float, *, token: str = "",
    path: str = "/score/", processes: int = 2, connections: int = 64, accounts: int = 50_000,
) -> Result:  # fmt: skip
    """``rate`` requests/s for ``seconds`` over ``processes`` generator processes."""
    start = time.time() + 1.5  # every process imported and connected by then
    with tempfile.TemporaryDirectory(prefix="bench-load-") as name:
        folder = Path(name)
        children = []
        for index in range(processes):
            out = folder / f"load-{index}.json"
            command = [
                sys.executable, "-m", "benchmarks.load", "--rate", str(rate),
                "--seconds", str(seconds), "--processes", str(processes), "--index", str(index),
                "--start", str(start), "--path", path, "--connections", str(connections),
                "--accounts", str(accounts), "--out", str(out),
                *[part for target in targets for part in ("--target", target)],
            ]  # fmt: skip
            env = {**os.environ, "LOAD_TOKEN": token}
            children.append((subprocess.Popen(command, env=env), out))
        parts = []
        for child, out in children:
            child.wait(timeout=seconds + DRAIN_S + 60)
            if child.returncode != 0 or not out.exists():
                raise RuntimeError(f"load generator exited with {child.returncode}")
            parts.append(json.loads(out.read_text()))
    return merge(parts, rate, seconds, len(targets), processes)


def merge(parts: list[dict[str, Any]], rate: float, seconds: float, targets: int,
          processes: int) -> Result:  # fmt: skip
    latencies = sorted(ms for part in parts for ms in part["latencies_ms"])
    lag = sorted(ms for part in parts for ms in part["lag_ms"])
    errors: collections.Counter[str] = collections.Counter()
    for part in parts:
        errors.update(part["errors"])
    refused = sum(n for what, n in errors.items() if what.startswith("HTTP"))
    sent = sum(part["sent"] for part in parts)
    answered = sum(part["answered"] for part in parts)
    span = max(p["finished"] for p in parts) - min(p["began"] for p in parts)
    return Result(
        rate=rate, seconds=seconds, targets=targets, processes=processes, sent=sent,
        answered=answered, errors=dict(errors), unjudged=sum(p["unjudged"] for p in parts),
        achieved=(answered - refused) / span if span > 0 else math.nan,
        p50_ms=quantile(latencies, 0.5), p90_ms=quantile(latencies, 0.9),
        p99_ms=quantile(latencies, 0.99),
        p999_ms=quantile(latencies, 0.999), max_ms=latencies[-1] if latencies else math.nan,
        lag_p99_ms=quantile(lag, 0.99),
        generator_cpu_us=sum(p["cpu_s"] for p in parts) / max(sent, 1) * 1e6,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", action="append", required=True, help="host:port")
    parser.add_argument("--rate", type=float, required=True, help="requests/s, all processes")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--index", type=int, default=0, help="this process's number")
    parser.add_argument("--start", type=float, default=0.0, help="wall-clock start (epoch s)")
    parser.add_argument("--path", default="/score/")
    parser.add_argument("--connections", type=int, default=64, help="at most, per target")
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.token = os.environ.get("LOAD_TOKEN", "")
    result = asyncio.run(drive(args))
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
