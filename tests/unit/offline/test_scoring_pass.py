"""The offline scoring pass decides as the core's replay does, from the live code."""

from __future__ import annotations

from pathlib import Path

from riskstream.offline.rules import rule_center
from riskstream.offline.scoring_pass import ScoringPass, same_as_core
from riskstream.streams.events import to_epoch_ms

GOLDEN_DAY = Path(__file__).resolve().parents[2] / "conformance" / "replay" / "events.jsonl"


def test_without_a_model_it_decides_as_the_core_replay() -> None:
    scoring = ScoringPass(rule_center())
    assert scoring.load(GOLDEN_DAY) == []
    scored = list(scoring.run())
    assert len(scored) == 1154  # every transaction once
    assert sum(s.decision.decision != "accept" for s in scored) > 50
    assert [s.transaction.event_id for s in scored if not same_as_core(s)] == []
    assert len({s.transaction.event_id for s in scored}) == len(scored)
    times = [s.transaction.occurred_ms for s in scored]
    assert times == sorted(times)
    assert scoring.signals and scoring.feedback


def test_it_reads_nothing_after_until() -> None:
    everything = ScoringPass(rule_center())
    everything.load(GOLDEN_DAY)
    scored = list(everything.run())
    until = scored[len(scored) // 2].transaction.occurred_ms
    part = ScoringPass(rule_center())
    part.load(GOLDEN_DAY)
    early = list(part.run(until_ms=until))
    assert [s.transaction.event_id for s in early] == [
        s.transaction.event_id for s in scored if s.transaction.occurred_ms <= until
    ]
    assert all(item.occurred_ms <= until for item in part.feedback)
    assert all(to_epoch_ms(signal.detected_at) <= until for signal in part.signals)


def test_a_copy_of_a_transaction_is_decided_once(tmp_path: Path) -> None:
    lines = GOLDEN_DAY.read_bytes().splitlines(keepends=True)
    copied = tmp_path / "copied.jsonl"
    copied.write_bytes(b"".join(lines) + lines[0])
    scoring = ScoringPass(rule_center())
    scoring.load(copied)
    assert len(scoring) == len(lines) + 1
    scored = list(scoring.run())
    assert len(scored) == 1154
    assert all(same_as_core(s) for s in scored)
