"""``riskstream backtest handbook`` end to end on a small population."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from riskstream.offline.handbook import run, scoring
from riskstream.offline.handbook.generator import HandbookConfig

CONFIG = HandbookConfig(seed=1, customers=250, terminals=500, days=35)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> run.HandbookResult:
    out = tmp_path_factory.mktemp("handbook")
    return run.run_handbook(CONFIG, out, Console(quiet=True))


def test_every_method_has_its_figures(result: run.HandbookResult) -> None:
    methods = [figures.method for figures in result.figures]
    assert methods == [
        "logistic regression", "decision tree (depth 2)", "decision tree (unlimited)",
        "random forest", "XGBoost", run.RULES,
    ]  # fmt: skip
    for figures in result.figures:
        assert figures.auc is not None and 0.0 <= figures.auc <= 1.0
        assert figures.ap is not None and 0.0 < figures.ap <= 1.0
        assert 0.0 <= figures.card_precision <= 1.0
    # the baselines learn something: better than chance by a margin
    assert max(f.auc or 0.0 for f in result.figures) > 0.7
    assert any("model: not available" in note for note in result.notes)


def test_the_files_and_the_report(result: run.HandbookResult) -> None:
    names = {path.name for path in result.files}
    assert names == {"events.jsonl", "labels.jsonl", "precision_recall.png"}
    assert all(path.stat().st_size > 0 for path in result.files)
    text = run.markdown(result)
    assert "| random forest |" in text and "target (riskstream above the best baseline)" in text
    goal = run.target(result)
    best = max(f.ap or 0.0 for f in result.figures if f.method != run.RULES)
    assert goal.ap == best


def test_a_model_runner_gets_the_protocols_window_and_its_scores_are_combined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[scoring.ModelJob] = []

    def runner(job: scoring.ModelJob, _console: Console) -> np.ndarray:
        seen.append(job)
        return np.full(len(job.score_ids), 0.5)

    monkeypatch.setattr(scoring, "model_runner", lambda: runner)
    result = run.run_handbook(CONFIG, tmp_path, Console(quiet=True))
    job = seen[0]
    split = result.split
    assert (job.train_to - job.train_from).days == split.train_days
    # the labels known to training are those delivered by the start of the test week
    assert (job.label_cutoff - job.train_to).days == split.delay_days
    assert len(job.score_ids) == result.test_rows
    assert result.figures[-1].method == run.RULES_MODEL
