"""The demo: a worker, simulated traffic with injected fraud, signals as they arrive,
then fresh payments scored through ``POST /score`` and their decisions."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from kafka import KafkaConsumer, TopicPartition
from rich.console import Console

from riskstream.simulation.traffic import SimConfig, TrafficSimulator, poison_messages
from riskstream.streams.codec import loads
from riskstream.streams.kafka_io import produce_events, producer
from riskstream.streams.kafka_security import client_options
from riskstream.streams.settings import Settings
from riskstream.streams.topics import create_topics
from riskstream.web.tokens import mint

console = Console(highlight=False, soft_wrap=True)


def _tail_from_now(settings: Settings, topics: list[str]) -> KafkaConsumer:
    """A consumer positioned at the current end of ``topics``: it shows only what is new."""
    consumer = KafkaConsumer(**client_options(settings), group_id=None, enable_auto_commit=False)
    partitions = [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or [])
    ]
    consumer.assign(partitions)
    consumer.seek_to_end()
    for partition in partitions:
        consumer.position(partition)  # resolve the lazy seek before anything is produced
    return consumer


def _show(
    settings: Settings,
    consumer: KafkaConsumer,
    stop: threading.Event,
    seen: Counter[str],
    signalled: set[str],
) -> None:
    while not stop.is_set():
        for records in consumer.poll(timeout_ms=300).values():
            for record in records:
                if record.topic == settings.topics.dead_letter:
                    headers = dict(record.headers or [])
                    reason = headers.get("riskstream.dlq.reason", b"?").decode()
                    detail = headers.get("riskstream.dlq.detail", b"").decode()[:70]
                    console.print(f"[yellow]dead-letter[/] {reason:<14} {detail}")
                    seen["dead-letter"] += 1
                    continue
                body = loads(record.value)
                if record.topic == settings.topics.decisions:
                    seen[f"decision {body['decision']}"] += 1
                    reasons = ", ".join(r.get("rule_id") or r["code"] for r in body["reasons"])
                    console.print(
                        f"[bold cyan]decision[/] {body['decision']:<9} score={body['score']:<3} "
                        f"{body['event_id']:<24} {reasons}"
                    )
                    continue
                seen[body["pattern"]] += 1
                if body["entity_type"] == "account":
                    signalled.add(body["entity_id"])
                console.print(
                    f"[bold red]signal[/] {body['pattern']:<17} {body['entity_type']}="
                    f"{body['entity_id']:<12} severity={body['severity']:<3} "
                    f"evidence={len(body['evidence'])} id={body['signal_id']}"
                )


def _credentials(settings: Settings) -> tuple[dict[str, str], str, str]:
    """The worker's environment with a token secret (the configured one, else a new one
    for this demo), a scorer token for the demo's own requests, and an admin token for
    the person watching."""
    configured = settings.auth_jwt_secret
    secret = configured.get_secret_value() if configured else secrets.token_urlsafe(32)
    internal = settings.internal_secret
    env = {
        **os.environ,
        "RISKSTREAM_AUTH_JWT_SECRET": secret,
        "RISKSTREAM_INTERNAL_SECRET": (
            internal.get_secret_value() if internal else secrets.token_urlsafe(32)
        ),
    }
    hours = timedelta(hours=8)
    audience, issuer = settings.auth_jwt_audience, settings.auth_jwt_issuer
    return (
        env,
        mint(secret, "demo-scorer", ["scorer"], hours, audience=audience, issuer=issuer),
        mint(secret, "demo-admin", ["admin"], hours, audience=audience, issuer=issuer),
    )


def _score(url: str, token: str, account: str, seed: int) -> None:
    """Ask the scorer about a new payment of ``account``; the answer shows in the
    decisions printed from ``risk.decisions``."""
    body = {
        "event_id": f"demo-score-{seed}-{account}",
        "type": "payment",
        "occurred_at": datetime.now(UTC).isoformat(),
        "account_id": account,
        "amount": "88.00",
        "currency": "CNY",
    }
    request = urllib.request.Request(
        f"{url}/score/",
        data=orjson.dumps(body),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
    except OSError as error:
        console.print(f"[yellow]score request for {account} failed: {error}[/]")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _start_worker(log_path: Path, settings: Settings) -> tuple[subprocess.Popen[bytes], str]:
    """The worker, and a scorer token for the demo's own requests."""
    env, scorer_token, admin_token = _credentials(settings)
    # Shown once, to the person running the demo: an 8-hour token of the worker's secret.
    console.print(f"admin token for this worker (8 h): {admin_token}")
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "riskstream", "worker", "-l", "info"],
            stdout=log,
            stderr=subprocess.STDOUT,
            # The demo's events are simulated: the published development token secret
            # serves unless one is configured.
            env={"RISKSTREAM_DEVELOPMENT": "1", **env},
        ), scorer_token


def _wait_ready(url: str, worker: subprocess.Popen[bytes], log_path: Path) -> None:
    with console.status("starting the worker (joining the group, recovering tables)..."):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited ({worker.returncode}); see {log_path}")
            try:
                with urllib.request.urlopen(f"{url}/health/", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
    raise SystemExit(f"the worker did not become ready in 120 s; see {log_path}")


def _worker_url(settings: Settings) -> str:
    scheme = "https" if settings.web_ssl_cert_file else "http"
    return f"{scheme}://{settings.web_host}:{settings.web_port}"


def run_demo(settings: Settings, *, accounts: int, rate: float, linger_s: float) -> None:
    url = _worker_url(settings)
    console.rule("[bold]riskstream demo")
    console.print(f"broker {settings.kafka_bootstrap}; creating topics")
    create_topics(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "demo-worker.log"
    # A TERM (from a supervisor, `timeout`, the demo script) stops the demo as Ctrl-C
    # does: the worker is stopped first, then the script stops the broker.
    signal.signal(signal.SIGTERM, _interrupt)
    worker, scorer_token = _start_worker(log_path, settings)
    stop = threading.Event()
    seen: Counter[str] = Counter()
    signalled: set[str] = set()  # accounts with a signal, filled by the watcher
    try:
        _wait_ready(url, worker, log_path)
        console.print(
            f"worker ready: console {url}/stats/  health {url}/health/  metrics {url}/metrics"
        )
        names = settings.topics
        watcher = threading.Thread(
            target=_show,
            args=(
                settings,
                _tail_from_now(settings, [names.signals, names.dead_letter, names.decisions]),
                stop,
                seen,
                signalled,
            ),
            daemon=True,
        )
        watcher.start()
        # A fresh seed per run: new event ids, so a second demo is not all duplicates.
        seed = int(time.time())
        config = SimConfig(
            seed=seed, accounts=accounts, end=datetime.now(UTC), duration=timedelta(minutes=30)
        )
        events = TrafficSimulator(config).events()
        injected = Counter(event.scenario for event in events if event.scenario)
        console.print(
            f"producing {len(events)} events at {rate:.0f}/s "
            f"(injected: {dict(injected)}) plus {len(poison_messages())} malformed messages"
        )
        sink = producer(settings)
        for _, raw in poison_messages():
            sink.send(names.transactions, key=b"acct-poison", value=raw)
        sink.flush()
        sink.close()
        produce_events(settings, events, rate=rate, total=len(events))
        time.sleep(linger_s)
        console.rule("scoring a fresh payment of some accounts (POST /score/)")
        injected_into = {str(e.payload["account_id"]) for e in events if e.scenario}
        ordinary = sorted({str(e.payload["account_id"]) for e in events} - injected_into)
        for account in sorted(signalled)[:8] + ordinary[:4]:
            _score(url, scorer_token, account, seed)
        time.sleep(2)
        console.rule("summary")
        console.print(f"seen: {dict(seen)}")
        console.print(f"worker stats: {url}/stats/   worker log: {log_path}")
        console.print("still watching; Ctrl-C stops the worker (and the broker the demo started)")
        while worker.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\nstopping")
    finally:
        stop.set()
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
