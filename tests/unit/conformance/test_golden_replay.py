"""A simulated day replayed by the core, byte for byte as recorded.

``tests/conformance/replay/``: ``events.jsonl`` (``riskstream simulate --seed 11
--customers 80 --days 1 --fraud-per-pattern 2``: 1,402 events, every fraud pattern of the
pack) and what ``riskstream replay`` wrote for it with the shipped rules and the default
policy: ``signals.jsonl``, ``decisions.jsonl``, ``shadow.jsonl`` (empty: the pack has no
shadow rules). The Python reference and the native engine gave the same bytes when they
were recorded.
"""

from __future__ import annotations

import difflib
import io
from pathlib import Path

import pytest
from rich.console import Console

from riskstream.offline import run as run_module
from riskstream.offline.run import ReplayOutputs, replay_file

GOLDEN = Path(__file__).resolve().parents[2] / "conformance" / "replay"
OUTPUTS = ("signals", "decisions", "shadow")


def test_the_recorded_day_replays_byte_for_byte(tmp_path: Path) -> None:
    replay_and_compare(tmp_path)


def test_the_chunks_a_replay_runs_in_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_module, "NATIVE_CHUNK", 97)
    replay_and_compare(tmp_path)


def replay_and_compare(tmp_path: Path) -> None:
    outputs = ReplayOutputs(*(tmp_path / f"{name}.jsonl" for name in OUTPUTS))
    stats, bad = replay_file(GOLDEN / "events.jsonl", outputs, console=Console(file=io.StringIO()))
    assert bad == []
    assert stats.events == 1402
    for name in OUTPUTS:
        got = (tmp_path / f"{name}.jsonl").read_bytes()
        want = (GOLDEN / f"{name}.jsonl").read_bytes()
        if got != want:
            diff = difflib.unified_diff(
                want.decode().splitlines(), got.decode().splitlines(),
                f"golden/{name}.jsonl", f"replayed/{name}.jsonl", lineterm="", n=0,
            )  # fmt: skip
            raise AssertionError("\n".join(line[:400] for line in list(diff)[:40]))
