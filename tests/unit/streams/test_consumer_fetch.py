"""The worker's consumer waits ``fetch_max_wait_ms`` for a fetch, not Faust's 1.5 s."""

from __future__ import annotations

import asyncio
from pathlib import Path

from riskstream.streams.app import create_faust_app
from riskstream.streams.consumer_fetch import DEFAULT_FETCH_MAX_WAIT_MS
from riskstream.streams.settings import Settings


def fetch_wait_of(settings: Settings) -> int:
    async def build() -> int:
        app = create_faust_app(settings)
        thread = app.consumer._thread  # type: ignore[attr-defined]
        consumer = thread._create_worker_consumer(app.transport)
        try:
            return int(consumer._fetch_max_wait_ms)
        finally:
            await consumer.stop()  # never started: closes its client

    return asyncio.run(build())


def test_the_worker_consumer_takes_the_fetch_wait_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, load_pack=False, fetch_max_wait_ms=7)
    assert fetch_wait_of(settings) == 7


def test_the_default_is_far_below_faust_s(tmp_path: Path) -> None:
    waited = fetch_wait_of(Settings(data_dir=tmp_path, load_pack=False))
    assert waited == Settings.model_fields["fetch_max_wait_ms"].default
    assert waited * 10 <= DEFAULT_FETCH_MAX_WAIT_MS
