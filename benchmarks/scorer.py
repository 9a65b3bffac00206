"""Latency of ``POST /score`` at a fixed request rate while the worker processes a stream.

Starts one worker on fresh topics, feeds it simulated traffic at ``--stream-rate`` events
per second, and sends ``--rate`` score requests per second for ``--seconds``; prints the
client-side p50, p99 and max. Then it measures freshness: the time from producing the
event that completes a velocity burst to the first decision that cites the new signal.

    KAFKA_BOOTSTRAP=127.0.0.1:9092 .venv/bin/python benchmarks/scorer.py \
        [--rate 1000] [--seconds 15] [--stream-rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import orjson
from rich.console import Console

from benchmarks.figures import figures_table
from benchmarks.pipeline import bootstrap, sandbox, wait_ready
from riskstream.simulation.traffic import SimConfig, TrafficSimulator
from riskstream.streams.codec import dumps
from riskstream.streams.kafka_io import producer, topic_for
from riskstream.streams.topics import create_topics

console = Console()


def transaction(account: str) -> bytes:
    return dumps({
        "event_id": f"bench-{uuid.uuid4().hex}", "type": "payment",
        "occurred_at": datetime.now(UTC), "account_id": account, "amount": "25.00",
        "currency": "CNY", "device_id": f"dev-{account}",
    })  # fmt: skip


async def drive(url: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Open-loop load: requests leave on schedule whether or not earlier ones returned."""
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:

        async def one(index: int) -> None:
            nonlocal errors
            body = transaction(f"acct-{index % 5000:05d}")
            started = time.perf_counter()
            async with session.post(f"{url}/score/", data=body) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

        begin = time.perf_counter()
        tasks = []
        for index in range(total):
            delay = begin + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
    return latencies, errors


async def freshness(url: str, settings: object) -> float | None:
    """Milliseconds from producing a burst's 11th payment to a decision citing a signal."""
    account = f"fresh-{uuid.uuid4().hex[:8]}"
    sink = producer(settings)  # type: ignore[arg-type]
    base = datetime.now(UTC) - timedelta(seconds=30)
    for n in range(11):
        body = dumps({
            "event_id": f"{account}-{n}", "type": "payment",
            "occurred_at": base + timedelta(seconds=n), "account_id": account,
            "amount": "3.00", "currency": "CNY",
        })  # fmt: skip
        if n == 10:
            sink.flush()
            sent = time.perf_counter()
        sink.send(settings.topics.transactions, key=account.encode(), value=body)  # type: ignore[attr-defined]
    sink.flush()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - sent < 30:
            async with session.post(f"{url}/score/", data=transaction(account)) as response:
                answer = orjson.loads(await response.read())
            if any(reason["code"] == "SIGNAL" for reason in answer["reasons"]):
                return (time.perf_counter() - sent) * 1000
            await asyncio.sleep(0.005)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--stream-rate", type=float, default=200.0)
    args = parser.parse_args()
    broker = bootstrap()
    with tempfile.TemporaryDirectory() as data:
        settings, env = sandbox(broker, Path(data))
        create_topics(settings)
        log = open(Path(data) / "worker.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "-m", "riskstream", "worker", "-l", "warn"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        stop = threading.Event()
        try:
            wait_ready(settings, worker)
            url = f"http://127.0.0.1:{settings.web_port}"
            events = TrafficSimulator(SimConfig(
                seed=5, accounts=2000, duration=timedelta(minutes=20), end=datetime.now(UTC),
            )).events()  # fmt: skip

            def stream() -> None:
                sink = producer(settings)
                begin = time.perf_counter()
                for index, event in enumerate(events):
                    if stop.is_set():
                        break
                    delay = begin + index / args.stream_rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    sink.send(topic_for(settings, event), key=event.key, value=event.encode())
                sink.flush()

            feeder = threading.Thread(target=stream, daemon=True)
            feeder.start()
            asyncio.run(asyncio.sleep(2))  # let the stream get going
            with console.status(f"{args.rate:.0f} score requests/s for {args.seconds:.0f} s"):
                latencies, errors = asyncio.run(drive(url, args.rate, args.seconds))
            fresh = asyncio.run(freshness(url, settings))
        finally:
            stop.set()
            worker.terminate()
            worker.wait(timeout=60)
    ordered = sorted(latencies)
    rows = [
        ("requests", f"{len(ordered)} ({errors} errors)"),
        ("p50", f"{statistics.median(ordered):.2f} ms"),
        ("p99", f"{ordered[int(0.99 * (len(ordered) - 1))]:.2f} ms"),
        ("max", f"{ordered[-1]:.2f} ms"),
        ("triggering event -> changed decision",
         "not seen in 30 s" if fresh is None else f"{fresh:.0f} ms"),
    ]  # fmt: skip
    title = f"POST /score at {args.rate:.0f}/s, stream at {args.stream_rate:.0f} events/s"
    console.print(figures_table(title, rows))


if __name__ == "__main__":
    main()
