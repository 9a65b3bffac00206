"""``POST /score/`` under open-loop load while the stream runs: the worker's scorer, N
``riskstream scorer`` processes, and a plain aiohttp hello-world as the floor, in one run.

1. the hello-world (``benchmarks/hello.py``), no stream: the HTTP stack's floor on this
   machine, and the load generator's own ceiling (its CPU per request; whether it sent
   on time);
2. one worker on fresh topics, simulated traffic produced at ``--stream-rate`` events/s
   (default: half the worker's peak, from ``var/bench-pipeline.json`` when there is one,
   else half the 1,457 events/s of docs/performance.md), and ``POST /score/`` at each
   of ``--rates``;
3. with ``--scorers 1,2,3`` (default, when ``riskstream scorer --help`` answers), that
   many ``riskstream scorer --port P`` processes beside the worker and its stream, the
   load spread over them round robin (the client is the load balancer).

The load (``benchmarks/load.py``) is open loop: arrivals on the clock, latency from each
arrival's scheduled time, keep-alive connections, several generator processes. For each
run: p50, p99, p99.9, max, errors, answers of -1, the achieved rate, the server's CPU
per request, and event -> changed decision (``benchmarks/score_stream.py``: a burst
that fires a signal on a new account, then every target asked until its answer
changes). The machine's load average is printed beside the figures: it is shared.

    KAFKA_BOOTSTRAP=127.0.0.1:9092 .venv/bin/python -m benchmarks.scorer \\
        [--rates 1000,2000,5000] [--seconds 10] [--stream-rate R] [--scorers 1,2,3] \\
        [--processes 2] [--json var/bench-scorer.json]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from benchmarks import load
from benchmarks.figures import comparison_table
from benchmarks.pipeline import (
    Process,
    Sandbox,
    bootstrap,
    code_fingerprint,
    cpu_seconds,
    drop_topics,
    free_port,
    launch,
    running,
    sandbox,
    snapshot_code,
    stop_all,
    wait_ready,
)
from benchmarks.score_stream import Probes, Stream, simulated_events
from riskstream.web.tokens import mint

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench-scorer.json"
PIPELINE_RESULTS = ROOT / "var" / "bench-pipeline.json"
DOCUMENTED_PEAK = 1457.0  # events/s, docs/performance.md: the worker, every stage done
WARM_S = 5.0  # the stream's first seconds, before the first measured run
BASELINE_S = 2.0  # the servers' CPU without the load is measured for this long
console = Console(width=None if sys.stdout.isatty() else 160)


@dataclass(slots=True)
class Measured:
    """One open-loop run against one deployment shape."""

    shape: str  # "hello-world", "worker", "1 scorer" ...
    load: load.Result
    server_cpu_us: float  # the serving processes' CPU per request sent
    # ... less what they spent anyway (idle, the stream) at the rate measured just before
    server_cpu_marginal_us: float
    server_baseline_cores: float  # that rate: CPU seconds per second, before the load
    load_average: tuple[float, float, float]
    fresh_ms: list[float] = field(default_factory=list)
    fresh_missed: int = 0
    stream_rate: float = 0.0  # achieved during the run (0: no stream)
    worker_received_rate: float = 0.0  # events/s the worker took in during the run

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "load": asdict(self.load)}


def peak_half() -> float:
    """Half the worker's peak: the last ``make bench-pipeline`` run's, or the documented."""
    try:
        runs = orjson.loads(PIPELINE_RESULTS.read_bytes())["runs"]
        peak = float(next(run["drained_rate"] for run in runs if run["label"] == "worker"))
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        peak = DOCUMENTED_PEAK
    return round(peak / 2) if peak > 0 else DOCUMENTED_PEAK / 2  # NaN > 0 is False


def scorer_command_exists(box: Sandbox) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "riskstream", "scorer", "--help"], env=box.env, cwd=box.code,
        capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    return done.returncode == 0


@contextlib.contextmanager
def serving(kind: str, box: Sandbox, count: int) -> Iterator[list[Process]]:
    """``count`` hello-world or scorer processes; stopped on the way out."""
    processes: list[Process] = []
    try:
        for number in range(count):
            port = free_port()
            name = f"{kind}-{count}x-{number}"  # each count of scorers starts afresh
            data_dir = box.folder / name
            data_dir.mkdir()
            if kind == "hello":
                command = [sys.executable, "-m", "benchmarks.hello", "--port", str(port)]
            else:
                command = [sys.executable, "-m", "riskstream", "scorer", "--port", str(port)]
            env = {**box.env, "WEB_PORT": str(port), "RISKSTREAM_DATA_DIR": str(data_dir)}
            processes.append(launch(kind, name, command, env, box, port, data_dir))
        yield processes
    finally:
        stop_all(processes)


def wait_listening(processes: Sequence[Process], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for process in processes:
        while True:
            try:
                socket.create_connection(("127.0.0.1", process.port), timeout=1).close()
                break
            except OSError:
                pass
            if process.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{process.kind} not listening:\n{process.log_tail()}")
            time.sleep(0.2)


def measure(
    shape: str, servers: Sequence[Process], rate: float, args: argparse.Namespace, token: str,
    *, box: Sandbox | None = None, stream: Stream | None = None, worker: Process | None = None,
) -> Measured:  # fmt: skip
    """One run at ``rate`` over ``servers``, freshness probes beside it when streaming."""
    targets = [f"127.0.0.1:{server.port}" for server in servers]
    before = sum(cpu_seconds(server.pid) for server in servers)
    time.sleep(BASELINE_S)
    baseline = (sum(cpu_seconds(server.pid) for server in servers) - before) / BASELINE_S
    probes = None
    if box is not None:
        urls = [f"http://{target}" for target in targets]
        probes = Probes(box.settings, urls, token)
        probes.start()
    received = worker.counters()["received"] if worker is not None else 0
    counted = time.perf_counter()
    sent_before = stream.sent if stream is not None else 0
    began = time.perf_counter()
    cpu = sum(cpu_seconds(server.pid) for server in servers)
    result = load.run(
        targets, rate, args.seconds, token=token, processes=args.processes,
        connections=args.connections,
    )  # fmt: skip
    cpu = sum(cpu_seconds(server.pid) for server in servers) - cpu
    elapsed = time.perf_counter() - began
    streamed = (stream.sent - sent_before) / elapsed if stream is not None else 0.0
    took_in = 0.0
    if worker is not None:  # its /stats/ may answer late: timed from answer to answer
        took_in = (worker.counters()["received"] - received) / (time.perf_counter() - counted)
    fresh = probes.stop() if probes is not None else []
    measured = Measured(
        shape, result, cpu / max(result.sent, 1) * 1e6,
        (cpu - baseline * elapsed) / max(result.sent, 1) * 1e6, baseline, os.getloadavg(), fresh,
        probes.missed if probes is not None else 0, streamed, took_in,
    )  # fmt: skip
    console.print(progress_line(measured))
    return measured


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.1f} ms"


def progress_line(m: Measured) -> str:
    r = m.load
    errors = ", ".join(f"{n} {what}" for what, n in r.errors.items()) or "no errors"
    fresh = f"; fresh p50 {ms(load.quantile(sorted(m.fresh_ms), 0.5))}" if m.fresh_ms else ""
    return (
        f"{m.shape:>12} at {r.rate:,.0f}/s: achieved {r.achieved:,.0f}/s, p50 {ms(r.p50_ms)}, "
        f"p99 {ms(r.p99_ms)}, p99.9 {ms(r.p999_ms)}, max {ms(r.max_ms)}, {errors}; "
        f"server {m.server_cpu_us:,.0f} µs CPU/request{fresh} (load {m.load_average[0]:.1f})"
    )


def report(runs: list[Measured]) -> None:
    shapes = list(dict.fromkeys(m.shape for m in runs))
    rates = sorted({m.load.rate for m in runs})
    for rate in rates:
        at = {m.shape: m for m in runs if m.load.rate == rate}
        columns = [shape for shape in shapes if shape in at]

        def row(name: str, show: Any, cols: list[str] = columns, at: Any = at) -> Any:
            return (name, [show(at[shape]) for shape in cols])

        rows = [
            row("achieved", lambda m: f"{m.load.achieved:,.0f}/s"),
            row("p50", lambda m: ms(m.load.p50_ms)),
            row("p99", lambda m: ms(m.load.p99_ms)),
            row("p99.9", lambda m: ms(m.load.p999_ms)),
            row("max", lambda m: ms(m.load.max_ms)),
            row("errors", lambda m: f"{m.load.error_count:,}"),
            row("answers of -1", lambda m: f"{m.load.unjudged:,}"),
            row("server CPU per request", lambda m: f"{m.server_cpu_us:,.0f} µs"),
            row("  over its CPU before the load", marginal),
            row("generator CPU per request", lambda m: f"{m.load.generator_cpu_us:,.0f} µs"),
            row("generator sent late, p99", lambda m: ms(m.load.lag_p99_ms)),
            row("stream (worker took in)", lambda m: f"{m.stream_rate:,.0f}/s "
                f"({m.worker_received_rate:,.0f}/s)" if m.stream_rate else "none"),
            row("event -> changed decision p50 / p99 (n)", freshness),
            row("load average (1 min)", lambda m: f"{m.load_average[0]:.1f}"),
        ]  # fmt: skip
        console.print(comparison_table(f"POST /score/ at {rate:,.0f} requests/s", columns, rows))


def marginal(m: Measured) -> str:
    if m.stream_rate:  # the stream's share of the CPU is not what it was before the load
        return f"- (before: {m.server_baseline_cores:.2f} cores, the stream's share moves)"
    return f"{m.server_cpu_marginal_us:,.0f} µs (before: {m.server_baseline_cores:.2f} cores)"


def freshness(m: Measured) -> str:
    if not m.fresh_ms:
        return f"none ({m.fresh_missed} unchanged in 30 s)" if m.fresh_missed else "-"
    ordered = sorted(m.fresh_ms)
    missed = f", {m.fresh_missed} unchanged" if m.fresh_missed else ""
    return (
        f"{ms(load.quantile(ordered, 0.5))} / {ms(load.quantile(ordered, 0.99))} "
        f"({len(ordered)}{missed})"
    )


def ceiling(hello: list[Measured]) -> list[str]:
    """What the hello-world runs say of the generator and of the rates this machine drives.
    Latency counts from the scheduled time, so the generator's own delay (``sent late``)
    is inside every figure: an upper bound on what the server alone adds."""
    lines = []
    for m in hello:
        r = m.load
        held = r.achieved >= 0.97 * r.rate and not r.error_count
        per_core = 1e6 / r.generator_cpu_us if r.generator_cpu_us else float("nan")
        lines.append(
            f"{r.rate:,.0f}/s: the generator and the hello-world "
            f"{'held it' if held else 'did NOT hold it'} (achieved {r.achieved:,.0f}/s); "
            f"the generator sent late by up to {ms(r.lag_p99_ms)} (p99: inside the "
            f"latencies), {r.generator_cpu_us:,.0f} µs CPU per request "
            f"(~{per_core:,.0f} requests/s per core it gets)"
        )
    return lines


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="1000,2000,5000", help="requests/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="each run's length")
    parser.add_argument(
        "--stream-rate", type=float, help="events/s (default: half the peak; 0: no stream)"
    )
    parser.add_argument("--scorers", default="1,2,3", help="scorer counts; '' for none")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--connections", type=int, default=64, help="per target and process")
    parser.add_argument("--skip-hello", action="store_true")
    parser.add_argument("--skip-worker", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, default=RESULTS, help="where the figures go")
    return parser.parse_args()


def streaming_runs(
    args: argparse.Namespace, box: Sandbox, rates: list[float], counts: list[int],
    stream_rate: float, token: str,
) -> list[Measured]:  # fmt: skip
    """The worker, then each count of scorers beside it, while the stream runs."""
    runs: list[Measured] = []
    stream = None
    if stream_rate > 0:
        with console.status("simulating the stream"):
            events = simulated_events(int(stream_rate * 60), args.seed)
        stream = Stream(box.settings, events, stream_rate)
    with running("worker", box) as workers, contextlib.ExitStack() as stack:
        wait_ready(workers)
        if stream is not None:
            stream.start()
            stack.callback(stream.stop)
            time.sleep(WARM_S)
        worker = workers[0]
        if not args.skip_worker:
            for rate in rates:
                runs.append(measure(
                    "worker", workers, rate, args, token, box=box, stream=stream,
                    worker=worker,
                ))  # fmt: skip
        for count in counts:
            with serving("scorer", box, count) as scorers:
                wait_ready(scorers)
                shape = f"{count} scorer{'s' if count > 1 else ''}"
                for rate in rates:
                    runs.append(measure(
                        shape, scorers, rate, args, token, box=box, stream=stream,
                        worker=worker,
                    ))  # fmt: skip
    return runs


def main() -> None:
    args = arguments()
    rates = [float(rate) for rate in args.rates.split(",") if rate]
    counts = [int(n) for n in args.scorers.split(",") if n]
    stream_rate = peak_half() if args.stream_rate is None else args.stream_rate
    broker = bootstrap()
    started = datetime.now(UTC)
    console.print(f"broker {broker}; stream at {stream_rate:,.0f} events/s; rates {rates}; "
                  f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    runs: list[Measured] = []
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        parent = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-scorer-")))
        code = snapshot_code(parent)
        box = sandbox(broker, parent, "scorer", code)
        stack.callback(drop_topics, broker, [box.settings.app_id])
        secret = box.env["RISKSTREAM_AUTH_JWT_SECRET"]
        token = mint(secret, "bench", ["scorer"], timedelta(days=1))
        if not args.skip_hello:
            with serving("hello", box, 1) as hello:
                wait_listening(hello)
                for rate in rates:
                    runs.append(measure("hello-world", hello, rate, args, token))
            notes += ceiling([m for m in runs if m.shape == "hello-world"])
        if counts and not scorer_command_exists(box):
            notes.append("`riskstream scorer` is not in this checkout: no scorer runs")
            counts = []
        if not args.skip_worker or counts:
            runs += streaming_runs(args, box, rates, counts, stream_rate, token)
        fingerprint = code_fingerprint(code)
    report(runs)
    for note in notes:
        console.print(note)
    results = {
        "started": started.isoformat(), "broker": broker, "cpus": os.cpu_count(),
        "code": fingerprint, "stream_rate": stream_rate,
        "arguments": {k: str(v) for k, v in vars(args).items()}, "notes": notes,
        "runs": [m.as_dict() for m in runs],
    }  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    console.print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
