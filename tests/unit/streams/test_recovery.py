"""Recovery never lets the consumer deliver messages that Faust then empties away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from riskstream.streams.app import create_faust_app
from riskstream.streams.recovery import QueueSafeRecovery
from riskstream.streams.settings import Settings

STREAM_TP = TP("transactions", 0)


async def test_the_consumer_fetches_nothing_until_the_stream_queues_were_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_faust_app(Settings(data_dir=tmp_path))
    recovery = app.tables.recovery
    assert isinstance(recovery, QueueSafeRecovery)
    consumer = app.consumer
    flow_control = app.flow_control
    steps: list[tuple[str, bool]] = []

    async def perform_seek() -> None:
        steps.append(("seek", consumer.flow_active))

    async def start_fetcher() -> None:
        return None

    def resume_partitions(tps: Any) -> None:
        steps.append(("resume partitions", consumer.flow_active))

    real_clear = flow_control.clear

    def clear() -> None:
        steps.append(("queues emptied", consumer.flow_active))
        real_clear()

    monkeypatch.setattr(consumer, "assignment", lambda: {STREAM_TP})
    monkeypatch.setattr(consumer, "perform_seek", perform_seek)
    monkeypatch.setattr(consumer, "resume_partitions", resume_partitions)
    monkeypatch.setattr(flow_control, "clear", clear)
    monkeypatch.setattr(app._fetcher, "maybe_start", start_fetcher)
    # As Faust leaves it when there was nothing to restore: the flow is already on.
    consumer.resume_flow()

    await recovery.on_recovery_completed(app.consumer_generation_id)

    # While partitions are resumed and sought, nothing may be fetched: whatever
    # reached a queue before it is emptied would be lost unacknowledged.
    assert steps == [
        ("resume partitions", False),
        ("seek", False),
        ("queues emptied", False),
    ]
    assert consumer.flow_active  # and fetching goes on afterwards
