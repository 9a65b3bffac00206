"""What runs beside the load in ``benchmarks/scorer.py``: the input stream at a fixed
rate, and the freshness probes (event -> changed decision).

A probe takes a new account, asks every target for its answer to a top-up (a type no
velocity rule counts, so the probe's own what-if never fires the burst it waits for),
then produces a burst of eleven payments dated half a minute ago (final on arrival: the
watermark delay is the stream's, not the scorer's) that fires ``velocity.account`` on
the account, and asks every target again every ``POLL_S`` until its answer differs from
the first: from the send of the eleventh payment to the changed answer of the slowest
target.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson

from riskstream.simulation.event import SimEvent
from riskstream.simulation.traffic import SimConfig, TrafficSimulator
from riskstream.streams.codec import dumps
from riskstream.streams.kafka_io import producer, topic_for
from riskstream.streams.settings import Settings

POLL_S = 0.01
PROBE_TIMEOUT_S = 30.0
BURST = 11  # velocity.account: more than 10 outgoing transactions in 10 minutes
CATCH_UP_S = 1.0


def simulated_events(count: int, seed: int) -> list[SimEvent]:
    """``count`` events of simulated traffic (about five an account and day)."""
    day = timedelta(days=1)
    config = SimConfig(seed=seed, accounts=max(100, count // 5), duration=day, mean_gap=day / 5)
    return TrafficSimulator(config).events()[:count]


class Stream:
    """A producer sending ``events`` at ``rate`` per second in a thread, each event dated
    when it is sent (as live traffic is), until stopped; past the last event, the first
    again under new event ids. Fallen more than ``CATCH_UP_S`` behind (the machine
    starved it), it goes on at the rate rather than sending the backlog in a burst."""

    def __init__(self, settings: Settings, events: list[SimEvent], rate: float) -> None:
        self.settings, self.events, self.rate = settings, events, rate
        self.sent = 0
        self.began = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def achieved(self) -> float:
        elapsed = time.perf_counter() - self.began
        return self.sent / elapsed if elapsed > 0 else 0.0

    def _run(self) -> None:
        sink = producer(self.settings)
        self.began = start = time.perf_counter()
        index = 0
        while not self._stop.is_set():
            delay = start + index / self.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -CATCH_UP_S:  # starved: the rate from now on, not a burst
                start, index = time.perf_counter(), 0
            event = self.events[self.sent % len(self.events)]
            payload = {**event.payload, "occurred_at": datetime.now(UTC)}
            if self.sent >= len(self.events):  # another pass: new event ids
                payload["event_id"] = f"{payload['event_id']}-{self.sent // len(self.events)}"
            sink.send(topic_for(self.settings, event), key=event.key, value=dumps(payload))
            self.sent += 1
            index += 1
        sink.flush()
        sink.close()


def probe_body(account: str) -> bytes:
    return dumps({
        "event_id": f"probe-{uuid.uuid4().hex}", "type": "top_up",
        "occurred_at": datetime.now(UTC), "account_id": account, "amount": "5.00",
        "currency": "CNY",
    })  # fmt: skip


def answer_of(body: bytes) -> tuple[int, tuple[str, ...]]:
    """What a change is judged on: the score and the reasons' codes and rules."""
    data = orjson.loads(body)
    reasons = tuple(sorted(f"{r['code']}:{r.get('rule_id')}" for r in data.get("reasons", [])))
    return int(data.get("score", -2)), reasons


class Probes:
    """Freshness probes, one after the other in a thread, until stopped."""

    def __init__(self, settings: Settings, urls: Sequence[str], token: str) -> None:
        self.settings, self.urls = settings, list(urls)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.times_ms: list[float] = []
        self.missed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probes", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(timeout=PROBE_TIMEOUT_S + 10)
        return self.times_ms

    def _run(self) -> None:
        sink = producer(self.settings)
        try:
            asyncio.run(self._probe_all(sink))
        finally:
            sink.close()

    async def _probe_all(self, sink: Any) -> None:
        async with aiohttp.ClientSession(headers=self.headers) as session:
            while not self._stop.is_set():
                took = await self._probe(session, sink)
                if took is None:
                    self.missed += 1
                elif took >= 0:
                    self.times_ms.append(took)
                await asyncio.sleep(0.2)

    async def _ask(self, session: aiohttp.ClientSession, url: str, account: str) -> Any:
        async with session.post(f"{url}/score/", data=probe_body(account)) as response:
            return answer_of(await response.read()) if response.status == 200 else None

    async def _probe(self, session: aiohttp.ClientSession, sink: Any) -> float | None:
        """Milliseconds to the changed answer; None: unchanged in time; -1: not probed."""
        account = f"fresh-{uuid.uuid4().hex[:10]}"
        before = [await self._ask(session, url, account) for url in self.urls]
        if any(answer is None or answer[0] < 0 for answer in before):
            await asyncio.sleep(0.5)  # a target not judging yet: no baseline to change from
            return -1.0
        base = datetime.now(UTC) - timedelta(seconds=30)
        topic = self.settings.topics.transactions
        for n in range(BURST):
            body = dumps({
                "event_id": f"{account}-{n}", "type": "payment",
                "occurred_at": base + timedelta(seconds=n), "account_id": account,
                "amount": "3.00", "currency": "CNY",
            })  # fmt: skip
            if n == BURST - 1:
                sink.flush()
                sent = time.perf_counter()
            sink.send(topic, key=account.encode(), value=body)
        sink.flush()
        pending = dict(enumerate(self.urls))
        while pending and time.perf_counter() - sent < PROBE_TIMEOUT_S:
            for index, url in list(pending.items()):
                answer = await self._ask(session, url, account)
                if answer is not None and answer != before[index] and answer[0] >= 0:
                    del pending[index]
            await asyncio.sleep(POLL_S)
        return None if pending else (time.perf_counter() - sent) * 1000
