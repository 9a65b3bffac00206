"""``riskstream simulate``: the command writes what the library makes; Kafka without a broker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from riskstream.cli.simulate import parse_start
from riskstream.simulation import output
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.streams import kafka_io
from riskstream.streams.settings import Settings


def run_command(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskstream", "simulate", *options],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_writes_the_events_and_the_labels(tmp_path: Path) -> None:
    done = run_command(
        tmp_path, "--out", "out/events.jsonl", "--labels", "out/labels.jsonl",
        "--seed", "5", "--customers", "60", "--fraud-per-pattern", "1",
        "--start", "2026-11-02T08:00:00+08:00",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "injected instances" in done.stderr
    expected = generate(SimulationConfig(seed=5, customers=60, fraud_per_pattern=1))
    events = (tmp_path / "out" / "events.jsonl").read_bytes()
    assert events == b"".join(event.encode() + b"\n" for event in expected.events)
    labels = (tmp_path / "out" / "labels.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line) for line in labels] == expected.labels


def test_the_command_needs_somewhere_to_write(tmp_path: Path) -> None:
    done = run_command(tmp_path, "--labels", "labels.jsonl")
    assert done.returncode != 0 and "--out" in done.stderr
    done = run_command(tmp_path, "--out", "e.jsonl", "--start", "2026-11-02T00:00:00")
    assert done.returncode != 0 and "time zone" in done.stderr
    assert not (tmp_path / "e.jsonl").exists()


def test_start_is_parsed_with_its_zone() -> None:
    assert parse_start("2026-11-02T00:00:00Z").utcoffset() is not None
    with pytest.raises(ValueError, match="time zone"):
        parse_start("2026-11-02")


@pytest.mark.parametrize(("rate", "expected"), [(0.0, None), (250.0, 250.0)])
def test_kafka_gets_the_events_in_order_at_the_rate(
    monkeypatch: pytest.MonkeyPatch, rate: float, expected: float | None
) -> None:
    dataset = generate(SimulationConfig(seed=2, customers=40, fraud_per_pattern=1))
    calls: list[dict[str, Any]] = []

    def fake(settings: Settings, events: Any, *, rate: float | None, total: int | None) -> int:
        sent = list(events)
        calls.append({"events": sent, "rate": rate, "total": total})
        return len(sent)

    monkeypatch.setattr(kafka_io, "produce_events", fake)
    assert output.produce(Settings(), dataset, rate) == len(dataset.events)
    (call,) = calls
    assert call["rate"] == expected and call["total"] == len(dataset.events)
    assert call["events"] == dataset.events
    settings = Settings()
    topics = {kafka_io.topic_for(settings, event) for event in dataset.events}
    names = settings.topics
    assert topics == {names.transactions, names.account_events, names.feedback}
