"""The worker on the real broker, beside its peers, in one run on one broker.

Every backlog is produced first (a simulated day, skewed: a few merchants and IP
addresses take a large share of the traffic), then the processes under test consume it:

1. one riskstream worker, full default pack, on the base day (``--events``): events per
   second through the account stage and until the re-key topic's entity stage (devices,
   IPs, merchants ...) is done too, CPU time of the worker per event, its RSS (VmRSS)
   at ready and at the end (and what the core's state cache and RocksDB count), the
   size of its data directory (RocksDB), and the bytes it wrote to Kafka per input
   event: the size of the log segments of its own changelog, re-key and signals topics
   on the broker after the run (Kafka's DescribeLogDirs, so no access to the broker's
   disk is needed; record batches as stored, framing included);
2. the same worker on a day ``--scale`` times bigger: CPU per event at both sizes and
   their ratio (target: at most 1.2);
3. a bare Faust agent (benchmarks/bare_faust.py: one RocksDB-backed count per account)
   on the base day's own topics: its throughput and CPU per event beside the worker's
   (target: worker / bare throughput at least 0.5);
4. two workers on the 8 partitions of another copy of the base day (target: at least
   1.7 times one worker's throughput);
5. event -> signal latency: events sent at half the one worker's measured peak, fraud
   injected; for every signal, from the send of its triggering event to the signal
   record's timestamp.

Throughput is counted from the moment every process has received its first event (its
partitions assigned, its tables recovered) to the last move of a stage's counter before
the consumer group's committed offsets reached the end of its topics. The machine is
shared: wall-clock figures are noisy, CPU per event much less so; that is why the peers
run in the same invocation. The figures are printed and written to
``var/bench-pipeline.json``. Every process runs a copy of riskstream/ (its built Rust
core included) taken at the start: the runs start minutes apart, and a checkout others
edit and rebuild meanwhile would have them measure different code.

    .venv/bin/python -m benchmarks.pipeline [--events 50000] [--scale 4] [--skip-scale]
        [--skip-bare] [--skip-two-workers] [--skip-latency] [--rate R] [--seconds 20]
        [--keep-topics]
    make bench-pipeline ARGS="--events 5000 --skip-scale --skip-two-workers"

Without KAFKA_BOOTSTRAP it starts the local broker (deploy/local/kafka.sh). The run's
topics are deleted at the end unless --keep-topics (a 4x day leaves over a gigabyte).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import math
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.figures import comparison_table, figures_table
from benchmarks.latency_hops import Trip, floor_rows, hop_rows, rekeyed_at
from benchmarks.memory_map import resident_by_kind
from riskstream.simulation.event import SimEvent
from riskstream.simulation.traffic import SimConfig, TrafficSimulator
from riskstream.streams.kafka_io import consume, producer, topic_for
from riskstream.streams.settings import Settings, TopicNames
from riskstream.streams.topics import create_topics, rekey_topic_name
from riskstream.web.tokens import mint

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench-pipeline.json"
# Wide enough for the side-by-side table when the output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 150)
Row = tuple[str, list[str]]

STATS_TIMEOUT_S = 30.0  # a worker deep in a batch answers late, but answers
STATS_PATIENCE_S = 300.0  # retries on timeouts and refusals for this long
STALL_S = 300.0  # no counter moving for this long: the run is given up
CRASHED = "Crashed reason="  # an agent died (mode's log line); its process lives on
POLL_S = 0.5


def bootstrap() -> str:
    given = os.environ.get("KAFKA_BOOTSTRAP")
    if given:
        return given
    done = subprocess.run(
        ["bash", str(ROOT / "deploy/local/kafka.sh"), "start"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True,
    )  # fmt: skip


# --- the simulated day -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Skew:
    """Zipf-like hot spots laid over the simulator's traffic, which has none (its
    merchants are drawn uniformly, and it sets no IP address)."""

    merchants: int = 8  # hot merchants (a big platform, a few chains ...)
    merchant_share: float = 0.4  # of the transactions with a merchant counterparty
    ips: int = 8  # hot addresses (carrier-grade NAT gateways, an office ...)
    ip_share: float = 0.25  # of the transactions; the rest come from the account's own
    exponent: float = 1.1

    def weights(self, count: int) -> list[float]:
        return [1 / (rank + 1) ** self.exponent for rank in range(count)]


def home_ip(account: str) -> str:
    digits = account.rsplit("-", 1)[-1]
    number = int(digits) if digits.isdigit() else zlib.crc32(account.encode())
    return f"58.{(number >> 16) % 200 + 20}.{(number >> 8) & 255}.{number & 255}"


def add_skew(events: list[SimEvent], skew: Skew, seed: int) -> None:
    """Every event gets its account's home IP; a share of the transactions move to a few
    hot merchants and hot IPs, ranked by a Zipf law. In place."""
    rng = random.Random(seed)
    merchants = [f"merch-hot-{rank}" for rank in range(skew.merchants)]
    ips = [f"117.136.{rank}.1" for rank in range(skew.ips)]
    merchant_weights, ip_weights = skew.weights(skew.merchants), skew.weights(skew.ips)
    for event in events:
        payload = event.payload
        if event.kind == "feedback":
            continue
        payload["ip"] = home_ip(str(payload["account_id"]))
        if event.kind != "transaction":
            continue
        counterparty = str(payload.get("counterparty_id") or "")
        if counterparty.startswith("merch-") and rng.random() < skew.merchant_share:
            payload["counterparty_id"] = rng.choices(merchants, merchant_weights)[0]
        if rng.random() < skew.ip_share:
            payload["ip"] = rng.choices(ips, ip_weights)[0]


def top_shares(events: Sequence[SimEvent], name: str, top: int = 3) -> list[tuple[str, float]]:
    """The most frequent values of one field, as shares of all events (absent: skipped)."""
    counts = Counter(str(e.payload[name]) for e in events if e.payload.get(name) is not None)
    return [(value, n / len(events)) for value, n in counts.most_common(top)]


def simulated_day(events: int, seed: int, skew: Skew) -> tuple[list[SimEvent], dict[str, Any]]:
    """A day of ``events`` events, skewed; and the top shares before and after."""
    day = timedelta(days=1)
    accounts = max(100, round(events / 5.2))  # ~5.3 events per account and day
    config = SimConfig(seed=seed, accounts=accounts, duration=day, mean_gap=day / 5)
    generated = TrafficSimulator(config).events()[:events]
    before = {name: top_shares(generated, name) for name in ("counterparty_id", "ip")}
    add_skew(generated, skew, seed)
    after = {name: top_shares(generated, name) for name in ("counterparty_id", "ip")}
    return generated, {"events": len(generated), "accounts": accounts, "simulator": before,
                       "skewed": after}  # fmt: skip


# --- sandboxes and processes -------------------------------------------------------------


@dataclass(slots=True)
class Sandbox:
    """Topics of their own under a fresh app id (other tenants share the broker)."""

    settings: Settings
    env: dict[str, str]
    folder: Path
    code: Path  # the copy of the code its processes run (snapshot_code)
    token: str = ""  # an analyst's bearer token for the workers' /stats/

    @property
    def inputs(self) -> list[str]:
        names = self.settings.topics
        return [names.transactions, names.account_events, names.feedback]


def sandbox(broker: str, parent: Path, name: str, code: Path) -> Sandbox:
    tag = uuid.uuid4().hex[:8]
    names = {key: f"bench-{tag}.{key}" for key in TopicNames.model_fields}
    folder = parent / name
    folder.mkdir()
    settings = Settings(
        kafka_bootstrap=broker, app_id=f"bench-{tag}", data_dir=folder, topics=TopicNames(**names)
    )
    secret = secrets.token_urlsafe(32)
    env = {
        **os.environ, "PYTHONPATH": str(code), "KAFKA_BOOTSTRAP": broker,
        "RISKSTREAM_APP_ID": settings.app_id, "RISKSTREAM_AUTH_JWT_SECRET": secret,
        "RISKSTREAM_INTERNAL_SECRET": secrets.token_urlsafe(32), "RISKSTREAM_DEVELOPMENT": "1",
        **{f"RISKSTREAM_TOPIC_{key.upper()}": value for key, value in names.items()},
    }  # fmt: skip
    create_topics(settings)
    token = mint(secret, "bench", ["analyst"], timedelta(days=1))
    return Sandbox(settings, env, folder, code, token)


def produce(box: Sandbox, events: Sequence[SimEvent], label: str) -> None:
    sink = producer(box.settings)
    with progress_bar() as progress:
        task = progress.add_task(f"producing {label}", total=len(events))
        for index, event in enumerate(events, 1):
            sink.send(topic_for(box.settings, event), key=event.key, value=event.encode())
            if index % 1000 == 0:
                progress.update(task, completed=index)
        sink.flush()
    sink.close()


def code_fingerprint(root: Path = ROOT) -> str:
    """riskstream's code under ``root`` (its Rust core included), by content."""
    digest = hashlib.sha256()
    for path in sorted((root / "riskstream").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(root)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def snapshot_code(parent: Path) -> Path:
    """A copy of riskstream/ (with its built core) and benchmarks/ that every measured
    process runs, whatever the checkout becomes meanwhile: the runs start minutes
    apart, and others edit and rebuild the checkout."""
    code = parent / "code"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("riskstream", "benchmarks"):
        shutil.copytree(ROOT / package, code / package, ignore=skip)
    return code


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(slots=True)
class Process:
    """A worker (riskstream or the bare peer) with its own data directory and web port."""

    kind: str  # "worker" or "bare"
    popen: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path
    token: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def get(self, path: str) -> dict[str, Any]:
        """A JSON page of the process; timeouts and refusals are retried for a while (a
        busy worker answers between batches), a dead process is reported with its log."""
        deadline = time.monotonic() + STATS_PATIENCE_S
        while True:
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} {self.pid} exited ({self.popen.returncode}):\n{self.log_tail()}"
                )
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{self.port}{path}",
                    headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
                )
                with urllib.request.urlopen(request, timeout=STATS_TIMEOUT_S) as response:
                    return dict(orjson.loads(response.read()))
            except (OSError, http.client.HTTPException) as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.kind} {self.pid}: {path}: {error!r}") from error
                time.sleep(1)

    def counters(self) -> dict[str, Any]:
        if self.kind == "bare":
            return {"received": int(self.get("/count/")["events"])}
        return dict(self.get("/stats/")["ingest"])

    def ready(self) -> bool:
        path = "/count/" if self.kind == "bare" else "/health/"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return bool(r.status == 200)
        except (OSError, http.client.HTTPException):
            return False


@contextlib.contextmanager
def running(
    kind: str,
    box: Sandbox,
    count: int = 1,
    *,
    extra_env: dict[str, str] | None = None,
    tag: str = "",
) -> Iterator[list[Process]]:
    """``count`` processes started at once; stopped (SIGTERM, then SIGKILL) on the way out."""
    if kind == "worker":
        command = [sys.executable, "-m", "riskstream", "worker", "-l", "warn"]
    else:
        command = [sys.executable, "-m", "benchmarks.bare_faust", "worker", "-l", "warn"]
    processes: list[Process] = []
    try:
        for number in range(count):
            data_dir = box.folder / f"{kind}{tag}-{number}"
            data_dir.mkdir()
            port = free_port()
            env = {
                **box.env, **(extra_env or {}), "WEB_PORT": str(port),
                "RISKSTREAM_DATA_DIR": str(data_dir), "BARE_DATA_DIR": str(data_dir),
                "BARE_WEB_PORT": str(port),
            }  # fmt: skip
            name = f"{kind}{tag}-{number}"
            processes.append(launch(kind, name, command, env, box, port, data_dir))
        yield processes
    finally:
        stop_all(processes)


def launch(
    kind: str,
    name: str,
    command: list[str],
    env: dict[str, str],
    box: Sandbox,
    port: int,
    data_dir: Path,
) -> Process:
    """``command`` started in the run's copy of the code, its output in ``<name>.log``."""
    log = box.folder / f"{name}.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=box.code
        )
    return Process(kind, popen, port, data_dir, log, box.token)


def stop_all(processes: Sequence[Process]) -> None:
    """SIGTERM to each, then SIGKILL to those not gone within 60 s."""
    for process in processes:
        process.popen.terminate()
    for process in processes:
        try:
            process.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()


def wait_ready(processes: list[Process], timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    pending = list(processes)
    with console.status(f"starting {len(processes)} {processes[0].kind} process(es)"):
        while pending:
            for process in list(pending):
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.kind} exited:\n{process.log_tail()}")
                if process.ready():
                    pending.remove(process)
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout_s:.0f} s:\n{pending[0].log_tail()}")
            time.sleep(POLL_S)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, name: str = "VmRSS") -> float:
    """A /proc/PID/status figure (VmRSS, VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def store_bytes(folders: Sequence[Path]) -> dict[str, int]:
    """The RocksDB files under ``folders``: SST files, write-ahead logs, the rest."""
    sizes = {"total": 0, "sst": 0, "wal": 0}
    for folder in folders:
        for item in folder.rglob("*"):
            if item.is_file():
                size = item.stat().st_size
                sizes["total"] += size
                if item.suffix == ".sst":
                    sizes["sst"] += size
                elif item.suffix == ".log" and item.stem.isdigit():
                    sizes["wal"] += size
    return sizes


# --- one measured run --------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    label: str
    processes: int
    backlog: int  # events waiting when the processes started
    timed_events: float  # of them, left when every process had received its first
    account_stage_s: float
    all_done_s: float
    account_rate: float
    drained_rate: float  # events per second until every entity stage was done too
    cpu_s: float
    cpu_us_per_event: float
    rss_ready_mb: float
    rss_end_mb: float
    rss_peak_mb: float  # VmHWM
    store: dict[str, int]  # the data directory: RocksDB's SST files, WAL and the rest
    kafka_records: int = 0
    kafka_bytes: int = 0
    kafka_by_topic: dict[str, dict[str, int]] = field(default_factory=dict)
    counters: dict[str, Any] = field(default_factory=dict)
    state_cache: dict[str, int] = field(default_factory=dict)  # the core's, at the end
    held_peak: int = 0  # events waiting for their event time, most seen in one sample
    # (events received, VmRSS MiB) once a second: whether memory levels off with volume
    rss_trace: list[tuple[int, float]] = field(default_factory=list)
    store_memory: dict[str, int] = field(default_factory=dict)  # RocksDB's, at the end
    log_problems: dict[str, int] = field(default_factory=dict)
    # At the end: resident bytes by kind of mapping, and the allocators' own figures
    resident: dict[str, int] = field(default_factory=dict)
    resident_ready: dict[str, int] = field(default_factory=dict)
    # /stats/memory/ of the workers at 1/4, 1/2, 3/4 of the backlog and at the end
    allocators: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kafka_bytes_per_event(self) -> float:
        return self.kafka_bytes / self.backlog if self.backlog else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kafka_bytes_per_event": self.kafka_bytes_per_event}


def summed(counters: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for one in counters:
        for key, value in one.items():
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
            elif isinstance(value, dict):
                inner = total.setdefault(key, {})
                for name, n in value.items():
                    inner[name] = inner.get(name, 0) + n
    return total


def give_up_if_stalled(
    label: str, processes: list[Process], since: float, what: str, counters: dict[str, Any]
) -> None:
    """Fail when nothing has moved since ``since`` and an agent crashed (its process
    lives on, idle), or when nothing has moved for ``STALL_S``."""
    quiet = time.monotonic() - since
    for process in processes if quiet > 5 else ():
        if CRASHED in process.log.read_text(errors="replace"):
            raise RuntimeError(f"{label}: an agent crashed:\n{process.log_tail(4000)}")
    if quiet > STALL_S:
        tails = "\n".join(process.log_tail(1500) for process in processes)
        raise RuntimeError(f"{label}: {what} stalled for {STALL_S:.0f} s ({counters}):\n{tails}")


def wait_first_event(label: str, processes: list[Process]) -> None:
    """The clock starts once every process is consuming: partitions assigned, tables
    recovered (with two, the rebalance between their joins mostly behind them)."""
    with console.status(f"{label}: waiting for every process's first event"):
        waited = time.monotonic()
        while not all(process.counters()["received"] > 0 for process in processes):
            if time.monotonic() - waited > STALL_S:
                raise RuntimeError(f"{label}: no event after {STALL_S:.0f} s")
            time.sleep(POLL_S / 5)


class Lag:
    """How far a consumer group's committed offsets are behind the ends of some topics:
    zero once the group has processed, and committed, every record there is."""

    def __init__(self, broker: str, group: str) -> None:
        self.group = group
        self.admin = KafkaAdminClient(bootstrap_servers=broker, client_id="bench-lag")
        self.reader = KafkaConsumer(bootstrap_servers=broker, group_id=None)
        self.parts: dict[tuple[str, ...], list[TopicPartition]] = {}

    def __call__(self, topics: Sequence[str]) -> int:
        parts = self.parts.get(tuple(topics))
        if parts is None:
            parts = self.parts[tuple(topics)] = [
                TopicPartition(topic, number)
                for topic in topics
                for number in sorted(self.reader.partitions_for_topic(topic) or ())
            ]
        ends = self.reader.end_offsets(parts)
        committed = self.admin.list_group_offsets({self.group: parts}).get(self.group, {})
        behind = 0
        for part in parts:
            mark = committed.get(part)
            behind += ends[part] - max(0, mark.offset if mark is not None else 0)
        return behind

    def close(self) -> None:
        self.admin.close()
        self.reader.close()


@dataclass(slots=True)
class Sample:
    """One look at the processes: their summed counters and CPU time."""

    at: float
    cpu: float
    received: int
    unique: int  # received, less the duplicates (events a rebalance had read again)
    entity_events: int


class Sampler:
    """The processes' counters, CPU and VmRSS summed, at one moment."""

    def __init__(self, processes: list[Process]) -> None:
        self.processes = processes
        self.pids = [process.pid for process in processes]
        self.rss_trace: list[tuple[int, float]] = []  # (events received, MiB)

    def __call__(self) -> tuple[Sample, dict[str, Any]]:
        counters = summed([process.counters() for process in self.processes])
        cpu = sum(cpu_seconds(pid) for pid in self.pids)
        received = counters["received"]
        unique = received - counters.get("duplicates", 0)
        self.rss_trace.append((unique, sum(memory_mb(pid) for pid in self.pids)))
        entity_events = counters.get("entity_events", 0)
        return Sample(time.monotonic(), cpu, received, unique, entity_events), counters


def measure(
    label: str,
    processes: list[Process],
    backlog: int,
    lag: Lag,
    inputs: Sequence[str],
    rekey: str | None,
) -> Run:
    """Time ``processes`` through a backlog of ``backlog`` events on ``inputs`` (and the
    re-key topic ``rekey`` they feed, if any).

    The end of a stage is the last moment its counter moved (polled every half second)
    before the group's committed offsets reached the topics' ends: right with
    duplicates too (two workers read again what a rebalance left uncommitted).
    """
    wait_ready(processes)
    pids = [process.pid for process in processes]
    rss_ready = sum(memory_mb(pid) for pid in pids)
    resident_ready = summed([resident_by_kind(pid) for pid in pids])
    sample = Sampler(processes)

    def stalled(since: Sample, what: str, counters: dict[str, Any]) -> None:
        give_up_if_stalled(label, processes, since.at, what, counters)

    wait_first_event(label, processes)
    start, counters = sample()
    held_peak = 0
    quarters: list[dict[str, Any]] = []
    account_end = entity_end = start  # the samples where the counters last moved
    account_done: Sample | None = None
    checked = start.at
    with progress_bar() as progress:
        accounts = progress.add_task(f"{label}: account stage", total=backlog)
        entities = progress.add_task(f"{label}: entity stage", total=None, visible=bool(rekey))
        while True:
            time.sleep(POLL_S)
            now, counters = sample()
            held_peak = max(held_peak, counters.get("held", 0))
            progress.update(accounts, completed=min(now.unique, backlog))
            while len(quarters) < 3 and now.unique >= (len(quarters) + 1) / 4 * backlog:
                # The allocators at 1/4, 1/2, 3/4 (with tracemalloc, the sites then)
                quarters.append(allocator_figures(processes, now.unique))
            if rekey:
                progress.update(
                    entities, completed=counters["entity_events"], total=counters["rekeyed"]
                )
            if now.received != account_end.received:
                account_end = now
            if now.entity_events != entity_end.entity_events:
                entity_end = now
            if now.at - checked < 1.0:
                continue  # the group's offsets: once a second
            checked = now.at
            if account_done is None:
                if lag(inputs) == 0:
                    account_done = account_end
                    if not rekey:
                        entity_end = account_end
                        break
                else:
                    stalled(account_end, "the account stage", counters)
            elif rekey and lag([rekey]) == 0:
                break
            else:
                stalled(entity_end, "the entity stage", counters)
    done = entity_end if entity_end.at > account_done.at else account_done
    cpu = done.cpu - start.cpu
    # None left when every process had its first event: no figure (too small a backlog).
    timed = max(backlog - start.unique, 0) or float("nan")

    def rate(seconds: float) -> float:
        return timed / seconds if seconds > 0 else float("nan")  # done in one sample

    return Run(
        label=label, processes=len(processes), backlog=backlog, timed_events=timed,
        account_stage_s=account_done.at - start.at, all_done_s=done.at - start.at,
        account_rate=rate(account_done.at - start.at),
        drained_rate=rate(done.at - start.at), cpu_s=cpu,
        cpu_us_per_event=cpu / timed * 1e6, rss_ready_mb=rss_ready,
        rss_end_mb=sum(memory_mb(pid) for pid in pids),
        rss_peak_mb=sum(memory_mb(pid, "VmHWM") for pid in pids),
        store=store_bytes([process.data_dir for process in processes]),
        counters=counters, state_cache=worker_stats(processes, "state_cache"),
        store_memory=worker_stats(processes, "store_memory"), held_peak=held_peak,
        rss_trace=sample.rss_trace, resident=summed([resident_by_kind(pid) for pid in pids]),
        resident_ready=resident_ready,
        allocators=[*quarters, allocator_figures(processes, backlog)],
    )  # fmt: skip


def allocator_figures(processes: list[Process], events: int) -> dict[str, Any]:
    """The workers' ``/stats/memory/`` and resident memory by mapping, at ``events``."""
    workers = [process for process in processes if process.kind != "bare"]
    return {
        "events": events,
        "workers": [process.get("/stats/memory/") for process in workers],
        "resident": [resident_by_kind(process.pid) for process in workers],
    }


def worker_stats(processes: list[Process], part: str) -> dict[str, int]:
    """A part of the workers' /stats/ (``state_cache``, ``store_memory``), summed."""
    total: dict[str, int] = {}
    for process in processes:
        if process.kind != "bare":
            for name, value in process.get("/stats/").get(part, {}).items():
                total[name] = total.get(name, 0) + int(value)
    return total


def timed(
    label: str,
    processes: list[Process],
    backlog: int,
    broker: str,
    box: Sandbox | str,
    inputs: Sequence[str] = (),
) -> Run:
    """:func:`measure` for workers of the sandbox ``box``, or for the bare peer whose
    consumer group is ``box``."""
    if isinstance(box, Sandbox):
        group, inputs, rekey = box.settings.app_id, box.inputs, rekey_topic_name(box.settings)
    else:
        group, rekey = box, None
    lag = Lag(broker, group)
    try:
        return measure(label, processes, backlog, lag, inputs, rekey)
    finally:
        lag.close()


def finish(
    run: Run, processes: list[Process], broker: str, prefix: str, skip: Sequence[str]
) -> Run:
    """The bytes written to Kafka (every topic under ``prefix`` but the inputs ``skip``)
    and the problems in the processes' logs; after the last commit has gone out."""
    time.sleep(3)  # a commit interval and then some: the last changelog writes
    run.kafka_by_topic = topic_bytes(broker, prefix, skip)
    run.kafka_records = sum(one["records"] for one in run.kafka_by_topic.values())
    run.kafka_bytes = sum(one["bytes"] for one in run.kafka_by_topic.values())
    run.store = store_bytes([process.data_dir for process in processes])
    run.log_problems = log_problems([process.log for process in processes])
    return run


def topic_bytes(broker: str, prefix: str, skip: Sequence[str]) -> dict[str, dict[str, int]]:
    """Records (end offsets) and bytes (the size of the partitions' log segments, as the
    broker reports them: DescribeLogDirs) of every topic named ``prefix``... but ``skip``.
    The topics are the run's own, so all they hold it wrote."""
    admin = KafkaAdminClient(bootstrap_servers=broker, client_id="bench-sizes")
    reader = KafkaConsumer(bootstrap_servers=broker, group_id=None)
    try:
        topics = sorted(t for t in reader.topics() if t.startswith(prefix) and t not in skip)
        sizes = {topic: {"records": 0, "bytes": 0} for topic in topics}
        if not topics:
            return sizes
        parts = [
            TopicPartition(topic, number)
            for topic in topics
            for number in sorted(reader.partitions_for_topic(topic) or ())
        ]
        for part, end in reader.end_offsets(parts).items():
            sizes[part.topic]["records"] += end
        for broker_dirs in admin.describe_log_dirs(topics):
            for log_dir in broker_dirs["log_dirs"]:
                for topic in log_dir["topics"]:
                    for partition in topic["partitions"]:
                        sizes[topic["name"]]["bytes"] += partition["partition_size"]
        return sizes
    finally:
        admin.close()
        reader.close()


def drop_topics(broker: str, prefixes: Sequence[str]) -> None:
    """Delete the run's topics (a 4x day leaves gigabytes of changelog behind)."""
    if not prefixes:
        return
    admin = KafkaAdminClient(bootstrap_servers=broker, client_id="bench-cleanup")
    try:
        doomed = [t for t in admin.list_topics() if t.startswith(tuple(prefixes))]
        if doomed:
            admin.delete_topics(doomed)
    except KafkaError as error:  # the figures matter more than the cleanup
        console.print(f"could not delete the run's topics ({prefixes}): {error!r}")
    finally:
        admin.close()


LEVEL = re.compile(r"\[(WARNING|ERROR|CRITICAL)\]|Traceback")
NOISE = re.compile(r"^\[[^]]*\] \[\d+\] |0x[0-9a-f]+|\d+")


def log_problems(logs: list[Path]) -> dict[str, int]:
    """Warnings, errors and tracebacks of the processes' logs: message -> times."""
    found: Counter[str] = Counter()
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if LEVEL.search(line):
                found[NOISE.sub("#", line.strip())[:200]] += 1
    return dict(found.most_common(20))


# --- latency -----------------------------------------------------------------------------


WARM_UP_S = 10.0
# Sent after the timed events, untimed: when the traffic stops, the inputs fall idle
# (``RISKSTREAM_IDLE_SOURCE_S``) and the last events are released before their time is
# final, which would flatter the timed ones.
TAIL_S = 5.0


def latency_events(rate: float, seconds: float, skew: Skew) -> list[SimEvent]:
    """A phase's traffic, fraud injected: enough attacks for a p99 that is not just the
    slowest of a few dozen signals, and enough events for the warm-up, the timed part
    and the tail (the simulator makes about 1.5 per account in 10 minutes: the accounts
    grow until there are enough)."""
    total = int(rate * (WARM_UP_S + seconds + TAIL_S))
    seed = int(time.time())
    attacks = max(10, total // 400)
    accounts = max(50, total // 2)
    while True:
        config = SimConfig(
            seed=seed, accounts=accounts, duration=timedelta(minutes=10),
            end=datetime.now(UTC), velocity_attacks=attacks, takeovers=attacks,
        )  # fmt: skip
        events = TrafficSimulator(config).events()
        if len(events) >= total:
            break
        accounts = int(accounts * total / max(1, len(events)) * 1.1) + 1
    events = events[:total]
    add_skew(events, skew, seed)
    return events


def send_at_rate(
    settings: Settings, events: list[SimEvent], rate: float, label: str
) -> dict[str, float]:
    """Each event sent at its turn and dated when sent (as live traffic is); event id ->
    when it was sent, for the events after the first ``WARM_UP_S`` (not timed: a process
    that has just caught up with a backlog still flushes and commits it meanwhile), and
    before the last ``TAIL_S``."""
    warm_up = int(rate * WARM_UP_S)
    timed_until = len(events) - int(rate * TAIL_S)
    sent_at: dict[str, float] = {}
    sink = producer(settings)
    with progress_bar() as progress:
        task = progress.add_task(f"{label}: sending at {rate:,.0f} events/s", total=len(events))

        def drive() -> None:
            begin = time.time()
            for index, event in enumerate(events):
                delay = begin + index / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
                now = time.time()
                if warm_up <= index < timed_until:
                    sent_at[str(event.payload["event_id"])] = now
                event.payload["occurred_at"] = datetime.fromtimestamp(now, UTC)
                sink.send(topic_for(settings, event), key=event.key, value=event.encode())
                progress.advance(task)
            sink.flush()

        driver = threading.Thread(target=drive)
        driver.start()
        driver.join()
    sink.close()
    return sent_at


def latency_phase(box: Sandbox, rate: float, seconds: float, skew: Skew) -> list[Trip]:
    """Send at ``rate``/s; time each signal from its trigger's send, and split the trip
    at the re-key bundle (``benchmarks/latency_hops.py``)."""
    settings = box.settings
    sent_at = send_at_rate(settings, latency_events(rate, seconds, skew), rate, "latency")
    with console.status("latency: collecting signals"):
        time.sleep(5)
        signals: list[tuple[str, str, int]] = []  # trigger, entity type, written at
        for record in consume(settings, settings.topics.signals, idle_timeout_s=5):
            signal = orjson.loads(record.value)
            if signal["trigger_event_id"] in sent_at:
                signals.append(
                    (signal["trigger_event_id"], signal["entity_type"], record.timestamp_ms)
                )
        rekeyed, records = rekeyed_at(settings, {trigger for trigger, _, _ in signals})
        console.print(f"latency: the re-key topic holds {records:,} records after the phase")
    begin = min(sent_at.values(), default=0.0)
    trips = []
    for trigger, entity_type, written_ms in signals:
        sent_ms = sent_at[trigger] * 1000
        bundle_ms = rekeyed.get(trigger)
        trips.append(Trip(
            sent_at[trigger] - begin, written_ms - sent_ms, entity_type,
            None if bundle_ms is None else bundle_ms - sent_ms,
        ))  # fmt: skip
    return trips


def settled(bare: Process, patience_s: float = 300) -> None:
    """Until the bare peer's two stages have done the same events, and nothing moved
    for 3 s."""
    last, still_since, give_up = (0, -1), time.monotonic(), time.monotonic() + patience_s
    while time.monotonic() < give_up:
        page = bare.get("/count/")
        now = (int(page["events"]), int(page.get("forwarded", 0)))
        if now != last:
            last, still_since = now, time.monotonic()
        elif now[0] > 0 and now[0] == now[1] and time.monotonic() - still_since >= 3:
            return
        time.sleep(0.5)


def bare_latency_phase(
    box: Sandbox, prefixes: list[str], rate: float, seconds: float, skew: Skew
) -> list[float]:
    """The floor: the bare Faust peer in its two-stage mode (``BARE_FORWARD``) on the same
    input topics, sent the same kind of traffic at the same rate; ms from each event's
    send to its record on the second stage's output topic."""
    bare_id = f"bare-{uuid.uuid4().hex[:8]}"
    prefixes.append(bare_id)
    env = {"BARE_APP_ID": bare_id, "BARE_TOPICS": ",".join(box.inputs), "BARE_FORWARD": "1"}
    with running("bare", box, extra_env=env, tag="-floor") as processes:
        with console.status("latency floor: the bare peer reads the backlog"):
            settled(processes[0])
        sent_at = send_at_rate(box.settings, latency_events(rate, seconds, skew), rate, "floor")
        with console.status("latency floor: the bare peer's second stage catches up"):
            settled(processes[0])
    latencies = []
    for record in consume(box.settings, f"{bare_id}-out", idle_timeout_s=5):
        event_id = orjson.loads(record.value)["event_id"]
        if event_id in sent_at:
            latencies.append(record.timestamp_ms - sent_at[event_id] * 1000)
    return latencies


# --- the report --------------------------------------------------------------------------


def mb(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


def ratio(value: float, target: str, good: Callable[[float], bool]) -> str:
    if math.isnan(value):  # a run had nothing left to time
        return f"n/a: the backlog was done before every process began (target {target})"
    mark = "[green]met[/]" if good(value) else "[red]missed[/]"
    return f"{value:.2f}x (target {target}: {mark})"


def skew_table(day: dict[str, Any]) -> Table:
    rows = []
    for field_name in ("counterparty_id", "ip"):
        for source in ("simulator", "skewed"):
            shares = day[source][field_name]
            text = ", ".join(f"{value} {share:.1%}" for value, share in shares) or "none set"
            rows.append((f"{field_name}, top 3 ({source})", text))
    return figures_table(
        f"the base day: {day['events']:,} events, {day['accounts']:,} accounts", rows
    )


def runs_table(runs: list[Run]) -> Table:
    workers = [run for run in runs if "rekeyed" in run.counters]

    def row(name: str, show: Callable[[Run], str], *, worker_only: bool = False) -> Row:
        return name, [show(r) if r in workers or not worker_only else "-" for r in runs]

    def per_event(kind: str) -> Callable[[Run], str]:
        def show(run: Run) -> str:
            written = sum(one["bytes"] for t, one in run.kafka_by_topic.items() if kind in t)
            return f"{written / run.backlog:,.0f} B"

        return show

    def counts(*names: str) -> Callable[[Run], str]:
        return lambda run: " / ".join(f"{run.counters.get(name, 0):,}" for name in names)

    rows = [
        row("events in the backlog", lambda r: f"{r.backlog:,}"),
        row("events timed (after every first event)", lambda r: f"{r.timed_events:,.0f}"),
        row("throughput, account stage", lambda r: f"{r.account_rate:,.0f} /s"),
        row("throughput, every entity stage done", lambda r: f"{r.drained_rate:,.0f} /s"),
        row("wall time, every stage done", lambda r: f"{r.all_done_s:,.1f} s"),
        row("CPU per event", lambda r: f"{r.cpu_us_per_event:,.0f} µs"),
        row("CPU time", lambda r: f"{r.cpu_s:,.1f} s"),
        row("RSS at ready (VmRSS)", lambda r: f"{r.rss_ready_mb:,.0f} MiB"),
        row("RSS at the end (VmRSS)", lambda r: f"{r.rss_end_mb:,.0f} MiB"),
        row("RSS peak (VmHWM)", lambda r: f"{r.rss_peak_mb:,.0f} MiB"),
        row("RSS at 1/4, 1/2, 3/4 of the backlog", rss_quarters),
        row(
            "  of which the core's state cache (its count)",
            lambda r: (
                f"{r.state_cache.get('bytes', 0) / 2**20:,.0f} MiB, "
                f"{r.state_cache.get('states', 0):,} states"
            ),
            worker_only=True,
        ),
        row(
            "  of which RocksDB (its count; memtables)",
            lambda r: (
                f"{r.store_memory.get('bytes', 0) / 2**20:,.0f} MiB "
                f"({r.store_memory.get('write_buffers', 0) / 2**20:,.0f} MiB)"
            ),
            worker_only=True,
        ),
        row("  resident at ready: mimalloc / glibc / other anon / files", resident_at_ready),
        row("  resident at the end: mimalloc / glibc / other anon / files", resident),
        row("  glibc malloc: held / free; pymalloc blocks", allocators, worker_only=True),
        row("events held for event time, peak", lambda r: f"{r.held_peak:,}", worker_only=True),
        row("RocksDB data directory", lambda r: f"{r.store['total'] / 2**20:,.1f} MiB"),
        row(
            "  of which SST / WAL",
            lambda r: f"{r.store['sst'] / 2**20:,.1f} / {r.store['wal'] / 2**20:,.1f} MiB",
        ),
        row("Kafka bytes written / input event", lambda r: f"{r.kafka_bytes_per_event:,.0f} B"),
        row("  of which changelogs", per_event("-changelog")),
        row("  of which the re-key topic", per_event("-entity-rekey"), worker_only=True),
        row("  of which signals", per_event(".signals"), worker_only=True),
        row("re-keyed items / entity events", counts("rekeyed", "entity_events"), worker_only=True),
        row("signals", counts("signals"), worker_only=True),
        row("late / duplicates / failed", counts("late", "duplicates", "failed"), worker_only=True),
        row("warnings and errors in the log", lambda r: f"{sum(r.log_problems.values()):,}"),
    ]
    table = comparison_table("riskstream pipeline beside its peers", [r.label for r in runs], rows)
    if any(run.processes > 1 for run in runs):
        table.caption = "two workers: CPU, RSS, RocksDB of both processes summed"
    return table


def resident_at_ready(run: Run) -> str:
    return resident_parts(run.resident_ready)


def resident(run: Run) -> str:
    return resident_parts(run.resident)


def resident_parts(parts: dict[str, int]) -> str:
    """Resident memory by kind of mapping (``memory_map``), in MiB."""
    glibc = parts.get("heap", 0) + parts.get("glibc_arenas", 0)
    shown = (
        parts.get("reserved_1g", 0),
        glibc,
        parts.get("other_anonymous", 0),
        parts.get("files", 0),
    )
    return " / ".join(f"{part / 2**20:,.0f}" for part in shown) + " MiB"


def allocators(run: Run) -> str:
    """glibc's figures and pymalloc's blocks at the end, summed over the workers."""
    end = run.allocators[-1]["workers"] if run.allocators else []
    glibc = summed([one.get("glibc", {}) for one in end])
    blocks = sum(one.get("python", {}).get("blocks", 0) for one in end)
    held, free = glibc.get("held", 0) / 2**20, glibc.get("free", 0) / 2**20
    return f"{held:,.0f} / {free:,.0f} MiB; {blocks:,}"


def rss_quarters(run: Run) -> str:
    """VmRSS when a quarter, half and three quarters of the backlog had been received:
    memory bounded by configuration levels off, memory that follows volume keeps rising."""
    shown = []
    for share in (0.25, 0.5, 0.75):
        reached = [rss for events, rss in run.rss_trace if events >= share * run.backlog]
        shown.append(f"{reached[0]:,.0f}" if reached else "-")
    return " / ".join(shown) + " MiB"


def p99(ordered: list[float]) -> float:
    return ordered[int(0.99 * (len(ordered) - 1))]


def latency_rows(
    rate: float, latencies: list[tuple[float, float]], delay_ms: float
) -> list[tuple[str, str]]:
    """From the trigger's send, and from when it was final (the watermark delay later:
    the phase's traffic flows on every input, so its watermark is its newest time less
    the delay); and the median in the first and the last third of the phase, which
    grows if the worker falls behind the rate."""
    if not latencies:
        return [(f"event -> signal (at {rate:,.0f} events/s)", "no signal in the latency phase")]
    ordered = sorted(ms for _, ms in latencies)
    final = [ms - delay_ms for ms in ordered]
    by_time = sorted(latencies)
    third = max(1, len(by_time) // 3)
    first, last = by_time[:third], by_time[-third:]
    return [
        (f"signals timed (sent at {rate:,.0f} events/s)", f"{len(ordered):,}"),
        ("event -> signal p50 / p99 / max", " / ".join(f"{v:,.0f} ms" for v in (
            statistics.median(ordered), p99(ordered), ordered[-1]))),
        (f"after the event is final ({delay_ms:,.0f} ms later) p50 / p99 / max",
         " / ".join(f"{v:,.0f} ms" for v in (statistics.median(final), p99(final), final[-1]))),
        ("event -> signal p50, first third / last third of the phase",
         f"{statistics.median(ms for _, ms in first):,.0f} / "
         f"{statistics.median(ms for _, ms in last):,.0f} ms"),
    ]  # fmt: skip


def stage_rows(timings: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the latency phase's events waited, as the worker measured it (``/stats/``):
    held until final, then applied, in each stage."""
    rows = []
    for name, what in (
        ("ingest_held", "held until final, account stage (per event)"),
        ("ingest_applied", "applied and written, account stage (per batch)"),
        ("entity_held", "held until final, entity stage (per item)"),
        ("entity_applied", "applied and written, entity stage (per batch)"),
        ("ingest_after_final", "final (by the clock) -> applied, account stage (per event)"),
        ("entity_after_final", "final (by the clock) -> applied, entity stage (per item)"),
        ("ingest_arrival", "record written -> in a batch, account stage (per event)"),
        ("entity_arrival", "re-key bundle written -> in a batch, entity stage (per bundle)"),
    ):
        one = timings.get(name) or {}
        if one.get("samples"):
            figures = f"{one['p50_ms']:,.0f} / {one['p99_ms']:,.0f} / {one['max_ms']:,.0f} ms"
            rows.append((f"{what} p50 / p99 / max", figures))
    return rows


def verdicts(runs: list[Run], scale: int) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """The ratios to their targets."""
    by_label = {run.label: run for run in runs}
    one = by_label["worker"]
    ratios: dict[str, float] = {}
    rows: list[tuple[str, str]] = []
    if larger := by_label.get(f"worker, {scale}x day"):
        value = ratios["cpu_per_event_scaled_over_base"] = (
            larger.cpu_us_per_event / one.cpu_us_per_event
        )
        rows.append((
            f"CPU per event, {scale}x day / base day "
            f"({larger.cpu_us_per_event:,.0f} / {one.cpu_us_per_event:,.0f} µs)",
            ratio(value, "<= 1.2", lambda v: v <= 1.2),
        ))  # fmt: skip
    if bare := by_label.get("bare Faust"):
        value = ratios["throughput_worker_over_bare"] = one.drained_rate / bare.drained_rate
        rows.append((
            f"throughput, worker / bare Faust ({one.drained_rate:,.0f} / "
            f"{bare.drained_rate:,.0f} /s)",
            ratio(value, ">= 0.5", lambda v: v >= 0.5),
        ))  # fmt: skip
        value = ratios["cpu_per_event_worker_over_bare"] = (
            one.cpu_us_per_event / bare.cpu_us_per_event
        )
        rows.append((
            f"CPU per event, worker / bare Faust ({one.cpu_us_per_event:,.0f} / "
            f"{bare.cpu_us_per_event:,.0f} µs)",
            f"{value:.2f}x",
        ))  # fmt: skip
    if pair := by_label.get("two workers"):
        value = ratios["throughput_two_over_one"] = pair.drained_rate / one.drained_rate
        rows.append((
            f"throughput, two workers / one ({pair.drained_rate:,.0f} / "
            f"{one.drained_rate:,.0f} /s)",
            ratio(value, ">= 1.7", lambda v: v >= 1.7),
        ))  # fmt: skip
    return ratios, rows


# --- main --------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000, help="the base day's events")
    parser.add_argument("--scale", type=int, default=4, help="the bigger day, times the base")
    parser.add_argument("--skip-scale", action="store_true", help="no bigger day")
    parser.add_argument("--skip-bare", action="store_true", help="no bare Faust peer")
    parser.add_argument("--skip-two-workers", action="store_true", help="no two-worker run")
    parser.add_argument("--skip-latency", action="store_true", help="no latency phase")
    parser.add_argument("--rate", type=float, help="latency phase rate (default: half the peak)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="latency phase length, after 10 s of warm-up traffic",
    )
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", type=Path, default=RESULTS, help="where the figures go")
    parser.add_argument(
        "--keep-topics", action="store_true", help="leave the run's topics on the broker"
    )
    return parser.parse_args()


@dataclass(slots=True)
class Outcome:
    code: str = ""  # code_fingerprint of the copy every process ran
    runs: list[Run] = field(default_factory=list)
    rate: float | None = None
    latencies: list[tuple[float, float]] = field(default_factory=list)
    trips: list[Trip] = field(default_factory=list)
    counters_after_latency: dict[str, Any] = field(default_factory=dict)
    floor: list[float] = field(default_factory=list)  # the bare peer's, ms after send
    watermark_delay_s: float = 0.0
    stage_timings: dict[str, Any] = field(default_factory=dict)  # the worker's, at the end


def measure_latency(
    out: Outcome, one: Sandbox, processes: list[Process], worker: Run, seconds: float, skew: Skew
) -> None:
    """The latency phase on the worker that has just done the backlog."""
    half = worker.drained_rate / 2
    out.rate = out.rate or (half if half > 0 else 100.0)  # NaN: a tiny backlog
    out.trips = latency_phase(one, out.rate, seconds, skew)
    out.latencies = [(trip.sent_s, trip.total_ms) for trip in out.trips]
    out.watermark_delay_s = one.settings.watermark_delay_s
    stats = processes[0].get("/stats/")
    out.stage_timings = stats.get("stage_timings", {})
    out.counters_after_latency = stats.get("ingest", {})
    # What the latency phase added to the log, too.
    worker.log_problems = log_problems([process.log for process in processes])


def measure_all(
    args: argparse.Namespace, broker: str, skew: Skew, base: list[SimEvent], big: list[SimEvent]
) -> Outcome:
    """Every backlog first, then the measured runs one after the other."""
    out = Outcome(rate=args.rate)
    prefixes: list[str] = []  # of the topics the run created, deleted at the end
    with contextlib.ExitStack() as stack:
        if not args.keep_topics:
            stack.callback(drop_topics, broker, prefixes)
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pipeline-"))
        parent = Path(folder)
        code = snapshot_code(parent)
        out.code = code_fingerprint(code)
        one = sandbox(broker, parent, "one", code)
        prefixes.append(one.settings.app_id)
        produce(one, base, f"the base day ({len(base):,} events)")
        if not args.skip_two_workers:
            two = sandbox(broker, parent, "two", code)
            prefixes.append(two.settings.app_id)
            produce(two, base, "the base day again, for two workers")
        if big:
            scaled = sandbox(broker, parent, "scaled", code)
            prefixes.append(scaled.settings.app_id)
            produce(scaled, big, f"the {args.scale}x day ({len(big):,} events)")
        if not args.skip_bare:
            bare_id = f"bare-{uuid.uuid4().hex[:8]}"
            prefixes.append(bare_id)
            env = {"BARE_APP_ID": bare_id, "BARE_TOPICS": ",".join(one.inputs)}
            with running("bare", one, extra_env=env) as processes:
                run = timed("bare Faust", processes, len(base), broker, bare_id, one.inputs)
            out.runs.append(finish(run, processes, broker, bare_id, ()))
        with running("worker", one) as processes:
            run = timed("worker", processes, len(base), broker, one)
            worker = finish(run, processes, broker, one.settings.app_id, one.inputs)
            out.runs.insert(0, worker)
            if not args.skip_latency:
                measure_latency(out, one, processes, worker, args.seconds, skew)
        if not args.skip_latency and not args.skip_bare and out.rate:
            out.floor = bare_latency_phase(one, prefixes, out.rate, args.seconds, skew)
        if not args.skip_two_workers:
            with running("worker", two, 2) as processes:
                run = timed("two workers", processes, len(base), broker, two)
            out.runs.append(finish(run, processes, broker, two.settings.app_id, two.inputs))
        if big:
            with running("worker", scaled) as processes:
                run = timed(f"worker, {args.scale}x day", processes, len(big), broker, scaled)
            run = finish(run, processes, broker, scaled.settings.app_id, scaled.inputs)
            out.runs.insert(1, run)
    return out


def git(*arguments: str) -> str:
    done = subprocess.run(
        ["git", *arguments], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return done.stdout if done.returncode == 0 else ""


def main() -> None:
    args = arguments()
    began = time.monotonic()
    skew = Skew()
    broker = bootstrap()
    console.print(f"broker {broker}")
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(), "broker": broker, "cpus": os.cpu_count(),
        "commit": git("rev-parse", "HEAD").strip(),
        # Part of the code every process ran (the copy taken at the start), if any.
        "uncommitted": git("status", "--porcelain", "--", "riskstream", "native").splitlines(),
        "arguments": {k: str(v) for k, v in vars(args).items()}, "skew": asdict(skew),
        "bytes_written": "the size of the log segments of the run's own topics (changelogs, "
        "re-key, signals ...) after the run, from the broker (DescribeLogDirs): record "
        "batches as stored, framing included, on every replica",
    }  # fmt: skip
    with console.status("simulating the days"):
        base, results["base_day"] = simulated_day(args.events, args.seed, skew)
        big: list[SimEvent] = []
        if not args.skip_scale:
            scaled_events = args.events * args.scale
            big, results["scaled_day"] = simulated_day(scaled_events, args.seed + 1, skew)
    console.print(skew_table(results["base_day"]))
    out = measure_all(args, broker, skew, base, big)
    ratios, rows = verdicts(out.runs, args.scale)
    if not args.skip_latency:
        delay_ms = out.watermark_delay_s * 1000
        rows += latency_rows(out.rate or 0.0, out.latencies, delay_ms)
        rows += hop_rows(out.trips, delay_ms)
        rows += floor_rows(out.floor)
        rows += stage_rows(out.stage_timings)
    elapsed = time.monotonic() - began
    rows.append(("the whole benchmark took", f"{elapsed / 60:,.1f} min"))
    console.print(runs_table(out.runs))
    console.print(figures_table("ratios and latency", rows))
    if code_fingerprint() != out.code:
        console.print(
            "riskstream/ changed in the checkout during the benchmark; every run used the "
            f"copy taken at the start (code {out.code})"
        )
    for run in out.runs:
        if run.log_problems:
            console.print(f"[bold]{run.label}[/]: warnings and errors in the log (times seen)")
            for line, times in list(run.log_problems.items())[:8]:
                console.print(f"  {times:>5} x {line}", markup=False, highlight=False)
    ordered = sorted(ms for _, ms in out.latencies)
    results.update({
        "runs": [run.as_dict() for run in out.runs], "ratios": ratios, "elapsed_s": elapsed,
        "code": out.code,
        "latency": None if args.skip_latency else {
            "rate": out.rate, "seconds": args.seconds, "signals": len(ordered),
            "p50_ms": statistics.median(ordered) if ordered else None,
            "p99_ms": p99(ordered) if ordered else None,
            "max_ms": ordered[-1] if ordered else None,
            "watermark_delay_s": out.watermark_delay_s, "by_send_time": out.latencies,
            "trips": [asdict(trip) for trip in out.trips], "floor_ms": out.floor,
            "stage_timings": out.stage_timings, "counters_after": out.counters_after_latency,
        },
    })  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    console.print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
