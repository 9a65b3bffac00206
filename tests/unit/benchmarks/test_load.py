"""The load generator is open loop: a server that stalls shows in the latencies of every
request scheduled meanwhile (no coordinated omission), and what it answers is counted."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from aiohttp import web

from benchmarks import load

STALL_S = 0.3


@pytest.fixture
def server() -> Iterator[tuple[int, dict[str, float]]]:
    """A server on a thread: stalls once for STALL_S on the 50th request, answers -1 to
    the 20th and 500 to the 30th."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    seen = {"count": 0.0}
    loop = asyncio.new_event_loop()

    async def score(request: web.Request) -> web.Response:
        await request.read()
        seen["count"] += 1
        if seen["count"] == 50:
            time.sleep(STALL_S)  # noqa: ASYNC251 - the server stalls, as a blocked loop does
        if seen["count"] == 30:
            return web.Response(status=500)
        answer = b'{"score":-1}' if seen["count"] == 20 else b'{"score":0}'
        return web.Response(body=answer, content_type="application/json")

    app = web.Application()
    app.router.add_post("/score/", score)
    runner = web.AppRunner(app, access_log=None)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    time.sleep(0.3)
    yield port, seen
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


def test_a_stall_counts_for_every_request_scheduled_during_it(
    server: tuple[int, dict[str, float]],
) -> None:
    port, seen = server
    rate, seconds = 200.0, 1.0
    result = load.run([f"127.0.0.1:{port}"], rate, seconds, processes=1, connections=4)
    assert (result.sent, result.answered) == (200, 200)
    assert seen["count"] == 200
    assert result.errors == {"HTTP 500": 1}
    assert result.unjudged == 1
    # Arrivals go on during the stall (open loop): the ~60 scheduled in its 0.3 s wait
    # for it, each timed from its own scheduled time, so a fifth of all wait over 0.1 s.
    # A closed loop would have sent only the 4 in flight late, and p90 would be ~1 ms.
    assert result.max_ms >= STALL_S * 1000 * 0.9
    assert result.p90_ms >= 100, result
    assert result.p50_ms < 50, result
