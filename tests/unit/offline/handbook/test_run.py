"""``riskstream backtest handbook`` end to end on a small population, riskstream's model
included."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.offline.handbook import baselines, run, scoring
from riskstream.offline.handbook.generator import DAY_S, HandbookConfig, generate

# Small enough for the scoring code's milliseconds an event: 28 days, 150 customers.
CONFIG = HandbookConfig(seed=0, customers=150, terminals=300, days=28)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("handbook")


@pytest.fixture(scope="module")
def result(out: Path) -> run.HandbookResult:
    return run.run_handbook(CONFIG, out, Console(quiet=True))


def test_every_method_has_its_figures(result: run.HandbookResult) -> None:
    methods = [figures.method for figures in result.figures]
    assert methods == [
        "logistic regression", "decision tree (depth 2)", "decision tree (unlimited)",
        "random forest", "XGBoost", run.RULES, run.MODEL, run.RULES_MODEL,
    ]  # fmt: skip
    for figures in result.figures:
        assert figures.auc is not None and 0.0 <= figures.auc <= 1.0
        assert figures.ap is not None and 0.0 < figures.ap <= 1.0
        assert 0.0 <= figures.card_precision <= 1.0
    # better than chance by a margin, and better than the fraud share for AP
    base_rate = result.test_fraud / result.test_rows
    assert max(f.auc or 0.0 for f in result.figures) > 0.6
    assert min(f.ap or 0.0 for f in result.figures) > base_rate


def test_the_model_learnt_only_the_training_week_as_known_at_the_cutoff(
    result: run.HandbookResult, out: Path
) -> None:
    card = ModelArtefact.from_bytes((out / "model" / "model.json").read_bytes()).card
    split, start = result.split, CONFIG.start
    assert card.label_cutoff == start + timedelta(days=split.test_start)
    assert card.train_from >= start + timedelta(days=split.train_start)
    assert card.train_to < start + timedelta(days=split.train_end)
    assert card.rows == result.train_rows
    # every fraud of the training week was reported by the cut-off (7 days later), and
    # nothing else: the delay week's and the test week's frauds stay unknown to it
    assert '"type":"feedback"' in (out / "model" / "events.jsonl").read_text()
    assert card.positives == _train_frauds(result)


def _train_frauds(result: run.HandbookResult) -> int:
    tx = generate(CONFIG).transactions
    split = result.split
    inside = (tx.seconds >= split.train_start * DAY_S) & (tx.seconds < split.train_end * DAY_S)
    return int((tx.fraud & inside).sum())


def test_the_files_and_the_report(result: run.HandbookResult) -> None:
    names = {path.name for path in result.files}
    assert names == {"events.jsonl", "labels.jsonl", "model.json", "precision_recall.png"}
    assert all(path.stat().st_size > 0 for path in result.files)
    text = run.markdown(result)
    assert "| random forest |" in text and "target (riskstream above the best baseline)" in text
    goal = run.target(result)
    ours = {run.RULES, run.MODEL, run.RULES_MODEL}
    assert goal.ap == max(f.ap or 0.0 for f in result.figures if f.method not in ours)


def test_a_model_runner_gets_the_protocols_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[scoring.ModelJob] = []

    def runner(job: scoring.ModelJob, _console: Console) -> np.ndarray:
        seen.append(job)
        return np.full(len(job.score_ids), 0.5)

    monkeypatch.setattr(scoring, "model_runner", lambda: runner)
    _one_baseline(monkeypatch)
    result = run.run_handbook(CONFIG, tmp_path, Console(quiet=True))
    job = seen[0]
    split = result.split
    assert (job.train_to - job.train_from).days == split.train_days
    # the labels known to training are those delivered by the start of the test week
    assert (job.label_cutoff - job.train_to).days == split.delay_days
    assert len(job.score_ids) == result.test_rows
    # rules and model combined: the larger of 100 x p and the rules' points
    rules = next(f for f in result.figures if f.method == run.RULES)
    both = next(f for f in result.figures if f.method == run.RULES_MODEL)
    assert both.auc is not None and rules.auc is not None
    # the model alone: a constant probability ranks nothing (AUC one half)
    alone = next(f for f in result.figures if f.method == run.MODEL)
    assert alone.auc == pytest.approx(0.5)


def test_without_a_model_the_line_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring, "model_runner", lambda: None)
    _one_baseline(monkeypatch)
    result = run.run_handbook(CONFIG, tmp_path, Console(quiet=True))
    assert not {run.MODEL, run.RULES_MODEL} & {f.method for f in result.figures}
    assert any(note.startswith("model: not available") for note in result.notes)


def _one_baseline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the logistic regression: these tests are about riskstream's side."""
    everything = baselines.classifiers()
    kept = {"logistic regression": everything["logistic regression"]}
    monkeypatch.setattr(baselines, "classifiers", lambda: kept)
