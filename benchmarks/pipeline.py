"""Throughput and event-to-signal latency of one worker on the real broker.

1. Throughput: N simulated events are produced first, then one worker consumes them;
   the figures are events per second through the account stage, and until the events'
   devices, IPs, merchants ... (the re-key topic) are done too (from /stats/).
2. Latency: events are produced at a fixed rate with fraud injected; for every signal,
   the time from the producer's send of its triggering event to the signal record's
   timestamp on the signals topic.

    KAFKA_BOOTSTRAP=127.0.0.1:9092 .venv/bin/python benchmarks/pipeline.py \
        [--events 20000] [--rate 500] [--seconds 20]

Without KAFKA_BOOTSTRAP it starts the local broker (deploy/local/kafka.sh).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import Progress

from benchmarks.figures import figures_table
from riskstream.simulation.traffic import SimConfig, TrafficSimulator
from riskstream.streams.kafka_io import consume, producer, topic_for
from riskstream.streams.settings import Settings, TopicNames
from riskstream.streams.topics import create_topics

ROOT = Path(__file__).resolve().parents[1]
console = Console()


def bootstrap() -> str:
    given = os.environ.get("KAFKA_BOOTSTRAP")
    if given:
        return given
    done = subprocess.run(
        ["bash", str(ROOT / "deploy/local/kafka.sh"), "start"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def sandbox(broker: str, data_dir: Path) -> tuple[Settings, dict[str, str]]:
    tag = uuid.uuid4().hex[:8]
    names = {field: f"bench-{tag}.{field}" for field in TopicNames.model_fields}
    port = 6300 + int(tag[:4], 16) % 500
    settings = Settings(
        kafka_bootstrap=broker, app_id=f"bench-{tag}", data_dir=data_dir, web_port=port,
        topics=TopicNames(**names),
    )  # fmt: skip
    env = {
        **os.environ, "KAFKA_BOOTSTRAP": broker, "WEB_PORT": str(port),
        "RISKSTREAM_APP_ID": settings.app_id, "RISKSTREAM_DATA_DIR": str(data_dir),
        **{f"RISKSTREAM_TOPIC_{key.upper()}": value for key, value in names.items()},
    }  # fmt: skip
    return settings, env


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stats(settings: Settings) -> dict[str, int]:
    url = f"http://127.0.0.1:{settings.web_port}/stats/"
    with urllib.request.urlopen(url, timeout=2) as response:
        return dict(orjson.loads(response.read())["ingest"])


def wait_ready(settings: Settings, worker: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and worker.poll() is None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{settings.web_port}/health/", timeout=1
            ) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"worker not ready after {timeout_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    broker = bootstrap()
    with tempfile.TemporaryDirectory() as data:
        settings, env = sandbox(broker, Path(data))
        create_topics(settings)
        accounts = max(100, args.events // 5)
        events = TrafficSimulator(SimConfig(seed=3, accounts=accounts)).events()[: args.events]
        sink = producer(settings)
        with Progress(transient=True) as progress:
            task = progress.add_task("pre-producing", total=len(events))
            for event in events:
                sink.send(topic_for(settings, event), key=event.key, value=event.encode())
                progress.advance(task)
        sink.flush()
        log = open(Path(data) / "worker.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "-m", "riskstream", "worker", "-l", "warn"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            try:
                wait_ready(settings, worker)
            except SystemExit:
                worker.kill()
                console.print((Path(data) / "worker.log").read_text()[-3000:])
                raise
            started, start_count = time.monotonic(), stats(settings)["received"]
            cpu_start = cpu_seconds(worker.pid)
            with Progress(transient=True) as progress:
                task = progress.add_task("worker consuming", total=len(events))
                while (done := stats(settings)["received"]) < len(events):
                    progress.update(task, completed=done)
                    time.sleep(0.25)
            accounts_rate = (len(events) - start_count) / (time.monotonic() - started)
            # The devices, IPs, merchants ... of those events, through the re-key topic.
            with Progress(transient=True) as progress:
                task = progress.add_task("entity events", total=None)
                while (now := stats(settings))["entity_events"] < now["rekeyed"]:
                    progress.update(task, completed=now["entity_events"], total=now["rekeyed"])
                    time.sleep(0.25)
            drained = (len(events) - start_count) / (time.monotonic() - started)
            cpu_end = cpu_seconds(worker.pid)
            # CPU time per event moves far less than wall time with other tenants about.
            cpu_per_event = (
                (cpu_end - cpu_start) / (len(events) - start_count)
                if cpu_start is not None and cpu_end is not None
                else None
            )
            latencies = latency_phase(settings, args.rate, args.seconds)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    report(len(events), (accounts_rate, drained), cpu_per_event, args.rate, latencies)


def latency_phase(settings: Settings, rate: float, seconds: float) -> list[float]:
    """Send at ``rate``/s with fraud injected; time each signal from its trigger's send."""
    total = int(rate * seconds)
    config = SimConfig(
        seed=int(time.time()), accounts=max(50, total // 6), duration=timedelta(minutes=10),
        end=datetime.now(UTC), velocity_attacks=10, takeovers=10,
    )  # fmt: skip
    events = TrafficSimulator(config).events()[:total]
    sent_at: dict[str, float] = {}
    sink = producer(settings)
    begin = time.time()

    def drive() -> None:
        for index, event in enumerate(events):
            delay = begin + index / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            sent_at[str(event.payload["event_id"])] = time.time()
            sink.send(topic_for(settings, event), key=event.key, value=event.encode())
        sink.flush()

    driver = threading.Thread(target=drive)
    with console.status(f"latency phase: {len(events)} events at {rate:.0f}/s"):
        driver.start()
        driver.join()
        time.sleep(3)
    latencies = []
    for record in consume(settings, settings.topics.signals, idle_timeout_s=2):
        trigger = orjson.loads(record.value)["trigger_event_id"]
        if trigger in sent_at:
            latencies.append(record.timestamp_ms - sent_at[trigger] * 1000)
    return latencies


def report(
    events: int,
    throughput: tuple[float, float],
    cpu_per_event: float | None,
    rate: float,
    latencies: list[float],
) -> None:
    accounts, drained = throughput
    rows = [
        (f"throughput, account stage ({events} events)", f"{accounts:,.0f} events/s"),
        ("throughput, every entity done", f"{drained:,.0f} events/s"),
        (
            "worker CPU per event (every entity done)",
            "n/a" if cpu_per_event is None else f"{cpu_per_event * 1e6:,.0f} µs",
        ),
    ]
    if latencies:
        ordered = sorted(latencies)
        rows += [
            (f"signals timed (at {rate:.0f} events/s)", str(len(ordered))),
            ("event -> signal p50", f"{statistics.median(ordered):.1f} ms"),
            ("event -> signal p99", f"{ordered[int(0.99 * (len(ordered) - 1))]:.1f} ms"),
            ("event -> signal max", f"{ordered[-1]:.1f} ms"),
        ]
    else:
        rows.append(("event -> signal", "no signal in the latency phase"))
    console.print(figures_table("riskstream pipeline, one worker", rows))


if __name__ == "__main__":
    main()
