"""Backtest with a model: "rules" and "rules+model" side by side from one pass."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from riskstream.agents.model_artefact import ModelArtefact, ModelCard, PlattCalibration
from riskstream.agents.model_features import FEATURES
from riskstream.offline.backtest import BacktestInputs, run_backtest
from tests.unit.offline.test_backtest import write_data_set

WHEN = datetime(2026, 11, 1, tzinfo=UTC)


def amount_model(path: Path) -> Path:
    """A model that finds large amounts risky: enough to move scores, no more."""
    rng = np.random.default_rng(5)
    x = np.full((2000, len(FEATURES)), np.nan)
    amount = rng.lognormal(4, 1.5, 2000)
    x[:, FEATURES.index("amount")] = amount
    y = (amount > 800).astype(int)
    params = {"objective": "binary", "num_leaves": 4, "verbosity": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(x, y, feature_name=list(FEATURES)), 20)
    card = ModelCard(train_from=WHEN, train_to=WHEN, label_cutoff=WHEN, rows=2000,
                     positives=int(y.sum()), metrics={})  # fmt: skip
    model = ModelArtefact.build(
        model_id="amounts", created_at=WHEN, features=FEATURES,
        booster=booster.model_to_string(), calibration=PlattCalibration(a=1.0, b=0.0), card=card,
    )  # fmt: skip
    path.write_bytes(model.to_bytes())
    return path


def test_rules_and_rules_with_model_side_by_side(tmp_path: Path) -> None:
    events, labels = write_data_set(tmp_path / "data")
    model = amount_model(tmp_path / "model.json")
    plain = run_backtest(BacktestInputs(events, labels, report_dir=tmp_path / "plain"))
    both = run_backtest(BacktestInputs(events, labels, report_dir=tmp_path / "r", model=model))
    assert list(both.runs) == ["rules", "rules+model"]
    rules, with_model = both.runs["rules"], both.runs["rules+model"]
    # Without the model the pass decides as the core's replay.
    assert rules.decisions == plain.runs["current"].decisions
    assert rules.roc_auc == plain.runs["current"].roc_auc
    # The model only adds to the score (never below the rules' deciding points) ...
    flagged = sum(n for (decision, _), n in rules.decisions.items() if decision != "accept")
    flagged_model = sum(
        n for (decision, _), n in with_model.decisions.items() if decision != "accept"
    )
    assert flagged_model > flagged
    # ... and the alerts are the replay's, the same in both runs.
    assert rules.alerts == with_model.alerts == plain.runs["current"].alerts
    report = (tmp_path / "r" / "report.md").read_text()
    assert "rules+model" in report and "by decision (review+)" in report
    assert "model: `" in report and "amounts" in report


def test_a_bad_model_file_is_refused_with_its_reason(tmp_path: Path) -> None:
    events, labels = write_data_set(tmp_path / "data", copies=1)
    bad = tmp_path / "model.json"
    bad.write_bytes(b'{"model_id": "x"}')
    with pytest.raises(OSError, match=r"model\.json: artefact"):
        run_backtest(BacktestInputs(events, labels, report_dir=tmp_path / "r", model=bad))
