"""``riskstream backtest handbook``: make the handbook's data, run its protocol, and put
riskstream's figures beside its baselines'."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.handbook import baselines, events, scoring
from riskstream.offline.handbook.features import DELAY_DAYS, baseline_features
from riskstream.offline.handbook.generator import HandbookConfig, HandbookData, generate
from riskstream.offline.handbook.protocol import (
    Split,
    card_precision_at_k,
    split_for,
    test_rows,
    train_rows,
)
from riskstream.offline.metrics import CurvePoint, average_precision, pr_curve, roc_auc
from riskstream.offline.plots import plot_pr

TOP_K = 100
# Days of events before the training week that the model's scoring pass reads: 30, the
# longest of the handbook's windows and of the pack's (amount.spike's horizon), and of
# the profiles' 30-day figures, so that training and test rows see the same history.
MODEL_WARMUP_DAYS = 30
RULES, MODEL, RULES_MODEL = "riskstream rules", "riskstream model", "riskstream rules+model"


@dataclass(frozen=True, slots=True)
class Figures:
    method: str
    auc: float | None
    ap: float | None
    card_precision: float
    curve: list[CurvePoint] = field(default_factory=list)


@dataclass(slots=True)
class HandbookResult:
    config: HandbookConfig
    split: Split
    transactions: int = 0
    fraud_rate: float = 0.0
    train_rows: int = 0
    test_rows: int = 0
    test_fraud: int = 0
    figures: list[Figures] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def figures_of(
    method: str, scores: NDArray[np.float64], data: HandbookData, rows: NDArray[np.int64]
) -> Figures:
    tx = data.transactions
    labels = tx.fraud[rows]
    listed = scores.tolist()
    truth = labels.tolist()
    precision, _per_day = card_precision_at_k(
        tx.day[rows], tx.customer[rows], scores, labels, TOP_K
    )
    return Figures(
        method, roc_auc(listed, truth), average_precision(listed, truth), precision,
        pr_curve(listed, truth),
    )  # fmt: skip


def run_handbook(
    config: HandbookConfig,
    out: Path,
    console: Console,
    policy: DecisionPolicy | None = None,
) -> HandbookResult:
    split = split_for(config.days)  # ValueError on too few days, before any work
    out.mkdir(parents=True, exist_ok=True)  # and OSError on a place we cannot write to
    result = HandbookResult(config, split)
    started = time.perf_counter()

    def step(text: str) -> None:
        console.print(f"[{time.perf_counter() - started:6.1f} s] {text}", markup=False)

    with console.status("generating the handbook's data") as status:
        data = generate(config, lambda what: status.update(f"generating: {what}"))
    tx = data.transactions
    result.transactions, result.fraud_rate = len(tx), float(tx.fraud.mean()) if len(tx) else 0.0
    step(f"{len(tx):,} transactions, {result.fraud_rate:.2%} fraud; protocol {describe(split)}")
    train, test = train_rows(tx, split), test_rows(tx, split)
    result.train_rows, result.test_rows = len(train), len(test)
    result.test_fraud = int(tx.fraud[test].sum())
    if not tx.fraud[train].any() or not result.test_fraud:
        raise ValueError("no fraud in the training or the test week: use more customers or days")
    with console.status("baseline features"):
        matrix = baseline_features(tx, config.start.weekday(), DELAY_DAYS)
    step(f"features: {len(train):,} training, {len(test):,} test transactions")
    for name, make in baselines.classifiers().items():
        with console.status(f"baseline: {name}"):
            scores = baselines.fit_and_score(make, matrix[train], tx.fraud[train], matrix[test])
            result.figures.append(figures_of(name, scores, data, test))
        step(f"baseline: {name}")
    if "XGBoost" not in {f.method for f in result.figures}:
        result.notes.append("XGBoost: not installed (pip install xgboost-cpu)")
    events_path, labels_path = out / "events.jsonl", out / "labels.jsonl"
    with console.status(f"writing {events_path}"):
        written, feedback = events.write_events(data, events_path, split.test_end, DELAY_DAYS)
        events.write_labels(data, labels_path, split.test_end)
    result.files += [events_path, labels_path]
    step(f"events: {written:,} payments, {feedback:,} chargebacks -> {events_path}")
    rules = scoring.rule_scores(events_path, test, console, policy)
    result.figures.append(figures_of(RULES, rules, data, test))
    step("riskstream: the shipped rules replayed")
    runner = scoring.model_runner()
    if runner is None:
        result.notes.append("model: not available (LightGBM is not installed)")
    else:
        model = _model_scores(runner, data, split, test, out, console)
        result.files += [out / "model" / "events.jsonl", out / "model" / "model.json"]
        result.figures.append(figures_of(MODEL, model, data, test))
        result.figures.append(figures_of(RULES_MODEL, scoring.combined(model, rules), data, test))
        step("riskstream: rules and model")
    base_rate = result.test_fraud / len(test)
    curves = {f.method: (f.curve, f.ap) for f in result.figures}
    result.files.append(
        plot_pr(curves, base_rate, out / "precision_recall.png", "Handbook protocol: test week")
    )
    return result


def _model_scores(
    runner: scoring.ModelRunner,
    data: HandbookData,
    split: Split,
    test: NDArray[np.int64],
    out: Path,
    console: Console,
) -> NDArray[np.float64]:
    """The model's probability for each test row. The scoring code runs milliseconds an
    event, so its pass reads only the weeks that matter: from MODEL_WARMUP_DAYS before
    the training week to the end of the test."""
    model_events = out / "model" / "events.jsonl"
    first_day = max(0, split.train_start - MODEL_WARMUP_DAYS)
    with console.status(f"writing {model_events}"):
        events.write_events(data, model_events, split.test_end, DELAY_DAYS, first_day)
    console.print(
        f"model: events of days {first_day}-{split.test_end - 1} -> {model_events}", markup=False
    )
    start = data.config.start
    job = scoring.ModelJob(
        events=model_events,
        train_from=start + timedelta(days=split.train_start),
        train_to=start + timedelta(days=split.train_end),
        label_cutoff=start + timedelta(days=split.test_start),
        score_ids=[events.transaction_id(int(row)) for row in test],
        work_dir=out / "model",
    )
    return runner(job, console)


def describe(split: Split) -> str:
    return (
        f"train days {split.train_start}-{split.train_end - 1}, "
        f"delay {split.train_end}-{split.test_start - 1}, "
        f"test {split.test_start}-{split.test_end - 1}"
    )


@dataclass(frozen=True, slots=True)
class Target:
    """The issue's target: AP and card precision@100 above the best baseline's."""

    ap: float
    card_precision: float
    met: bool

    @property
    def verdict(self) -> str:
        return "met" if self.met else "not met"


def target(result: HandbookResult) -> Target:
    ours = {RULES, MODEL, RULES_MODEL}
    base = [f for f in result.figures if f.method not in ours]
    best_ap = max((f.ap or 0.0) for f in base)
    best_cp = max(f.card_precision for f in base)
    met = any(
        (f.ap or 0.0) > best_ap and f.card_precision > best_cp
        for f in result.figures
        if f.method in ours
    )
    return Target(best_ap, best_cp, met)


def title(result: HandbookResult) -> str:
    config = result.config
    return (
        f"backtest handbook: seed {config.seed}, {config.customers:,} customers, "
        f"{config.terminals:,} terminals, {config.days} days; {describe(result.split)}; "
        f"test: {result.test_rows:,} transactions, {result.test_fraud:,} fraud"
    )


def table(result: HandbookResult) -> Table:
    out = Table(title=title(result))
    out.add_column("method")
    for name in ("AUC", "AP", f"card precision@{TOP_K}"):
        out.add_column(name, justify="right")
    for f in result.figures:
        out.add_row(f.method, _num(f.auc), _num(f.ap), _num(f.card_precision))
    goal = target(result)
    out.add_row(
        f"target (riskstream above the best baseline): {goal.verdict}", "",
        f"> {goal.ap:.3f}", f"> {goal.card_precision:.3f}",
    )  # fmt: skip
    return out


def markdown(result: HandbookResult) -> str:
    rows = [
        title(result),
        "",
        f"| method | AUC | AP | card precision@{TOP_K} |",
        "|---|---:|---:|---:|",
    ]
    rows += [
        f"| {f.method} | {_num(f.auc)} | {_num(f.ap)} | {_num(f.card_precision)} |"
        for f in result.figures
    ]
    goal = target(result)
    rows.append(
        f"| target (riskstream above the best baseline): {goal.verdict} | "
        f"| > {goal.ap:.3f} | > {goal.card_precision:.3f} |"
    )
    return "\n".join([*rows, "", *result.notes]) + "\n"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
