"""The issue's own-simulator targets, measured on the held-out data sets only.

Simulates every evaluation set of :mod:`riskstream.simulation.heldout` (seeds and
population sizes never used while tuning), runs ``riskstream backtest`` on each, and
prints, for every run the backtest compares (the rules; "rules+model" once a model is
deployed), the targets with pass or fail:

- friction on legitimate transactions at the challenge threshold: at most 0.5%
  (pooled over the sets: legitimate transactions challenged or rejected, over all);
- recall of every scenario: at least 0.9 (pooled instance counts). An instance is
  caught when its own rule alerted on it or a decision stopped (challenge or reject) one
  of its attack transactions, so that a score can raise it, not only a rule; the count
  by its own rule alone is shown beside;
- score ROC AUC: at least 0.95 (on every set).

    .venv/bin/python -m benchmarks.evaluate [--sets heldout-a,heldout-b] [--keep DIR]
        [--top-k 100] [--strict] [--model FILE | --train]

With ``--model FILE`` each set is also scored by the rules and that model ("rules+model").
``--train`` first trains one on the tuning set ``model`` of ``heldout`` (its labels
matured: the cut-off a month after its last day) with ``riskstream model train``'s code.

Never tune on what this prints: a set whose figures were used to change a rule, a
weight or a model is spent (see the module docstring of ``heldout``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from riskstream.agents.model_thresholds import FrictionBudgets
from riskstream.agents.scoring import policy_from
from riskstream.cli.model_train import train_command
from riskstream.offline.backtest import BacktestInputs, run_backtest
from riskstream.offline.evaluation import Evaluation, friction_rates
from riskstream.offline.labels import EventClass
from riskstream.simulation.dataset import generate
from riskstream.simulation.heldout import EVALUATION, MODEL_TRAINING, TUNING, DataSet
from riskstream.simulation.output import write_events, write_labels
from riskstream.streams.settings import get_settings

FRICTION_MAX = 0.005  # at the challenge threshold
RECALL_MIN = 0.9  # every scenario
AUC_MIN = 0.95


def simulate(data_set: DataSet, folder: Path, console: Console) -> tuple[Path, Path]:
    config = data_set.config
    events, labels = folder / "events.jsonl", folder / "labels.jsonl"
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(
            f"simulating {data_set.name} ({config.customers:,} customers, {config.days:g} days)",
            total=config.customers,
        )
        dataset = generate(config, lambda n: progress.advance(task, n))
    write_events(dataset, events, Console(quiet=True))
    write_labels(dataset, labels)
    console.print(f"{data_set.name}: {len(dataset.events):,} events, {dataset.instances} instances")
    return events, labels


def train_model(folder: Path, console: Console) -> Path:
    """A model trained on the tuning set ``model``, every verdict known (the cut-off a
    month after its last day): what a bank retraining on a matured history has."""
    folder.mkdir(parents=True, exist_ok=True)
    events, _ = simulate(MODEL_TRAINING, folder, console)
    config = MODEL_TRAINING.config
    cutoff = config.start + timedelta(days=config.days + 30)
    out = folder / "model.json"
    console.print(f"training a model on {MODEL_TRAINING.name} (cut-off {cutoff:%Y-%m-%d})")
    settings = get_settings()
    train_command(
        str(events), cutoff.isoformat(), None, str(out), "feedback", None, "fraud-gbm",
        policy_from(settings), console, budgets=FrictionBudgets.of(settings),
    )  # fmt: skip
    return out


def verdict(ok: bool) -> str:
    return "[green]pass[/green]" if ok else "[red]FAIL[/red]"


def targets(run: str, results: dict[str, Evaluation]) -> tuple[Table, bool]:
    """The targets of one run over the sets: per set, pooled, and pass or fail."""
    table = Table(title=f"Held-out targets: {run}")
    for column in ("measure", *results, "pooled", "target", "verdict"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    decisions: Counter[tuple[str, EventClass]] = Counter()
    caught: Counter[str] = Counter()
    instances: Counter[str] = Counter()
    for evaluation in results.values():
        decisions.update(evaluation.decisions)
        for scenario in evaluation.scenarios:
            caught[scenario.scenario] += scenario.caught
            instances[scenario.scenario] += scenario.instances
    friction = friction_rates(decisions)["challenge"]
    friction_ok = friction is not None and friction <= FRICTION_MAX
    table.add_row(
        "friction at challenge (legitimate)",
        *(pct(e.friction["challenge"]) for e in results.values()),
        pct(friction), f"<= {FRICTION_MAX:.1%}", verdict(friction_ok),
    )  # fmt: skip
    recalls = {name: caught[name] / count for name, count in instances.items() if count}
    recall_ok = bool(recalls) and all(value >= RECALL_MIN for value in recalls.values())
    for name in sorted(recalls):
        per_set = []
        for evaluation in results.values():
            found = [s for s in evaluation.scenarios if s.scenario == name]
            per_set.append(
                f"{found[0].caught}/{found[0].instances} (rule {found[0].by_own_rule})"
                if found
                else "-"
            )
        ok = recalls[name] >= RECALL_MIN
        table.add_row(f"recall: {name}", *per_set, f"{recalls[name]:.2f}", f">= {RECALL_MIN}",
                      verdict(ok))  # fmt: skip
    aucs = [e.roc_auc for e in results.values()]
    auc_ok = all(value is not None and value >= AUC_MIN for value in aucs)
    table.add_row("score ROC AUC", *(num(v) for v in aucs), f"min {num(min_or_none(aucs))}",
                  f">= {AUC_MIN}", verdict(auc_ok))  # fmt: skip
    table.add_row("score average precision", *(num(e.average_precision) for e in results.values()),
                  "", "", "")  # fmt: skip
    table.add_row(
        f"precision@{next(iter(results.values())).top_k} of accounts",
        *(num(e.precision_at_k) for e in results.values()), "", "", "",
    )  # fmt: skip
    table.add_row(
        "look-alikes alerted",
        *(f"{sum(s.look_alikes_alerted for s in e.scenarios)}/"
          f"{sum(s.look_alikes for s in e.scenarios)}" for e in results.values()),
        "", "", "",
    )  # fmt: skip
    return table, friction_ok and recall_ok and auc_ok


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def min_or_none(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return min(known) if known else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(item.name for item in EVALUATION))
    parser.add_argument("--keep", type=Path, default=None, help="keep data and reports here")
    parser.add_argument("--top-k", type=int, default=100)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    chosen_model = parser.add_mutually_exclusive_group()
    chosen_model.add_argument("--model", type=Path, default=None, help="a model artefact")
    chosen_model.add_argument(
        "--train", action="store_true", help="train one on the tuning set 'model' first"
    )
    args = parser.parse_args(argv)
    console = Console()
    if not console.is_terminal:  # piped to a file: not squeezed to 80 columns
        console.width = 140
    named = (*EVALUATION, *TUNING)
    chosen = [item for item in named if item.name in args.sets.split(",")]
    unknown = set(args.sets.split(",")) - {item.name for item in named}
    if unknown or not chosen:
        console.print(f"evaluate: not a named data set: {', '.join(sorted(unknown)) or '-'}")
        return 2
    tuning = [item.name for item in chosen if item in TUNING]
    if tuning:  # measuring a change on tuning data is fine; judging the engine on it is not
        console.print(f"evaluate: {', '.join(tuning)}: tuning data, not a held-out figure")
    policy = policy_from(get_settings())  # the thresholds `riskstream backtest` uses
    by_run: dict[str, dict[str, Evaluation]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        model = train_model(root / "model", console) if args.train else args.model
        for data_set in chosen:
            folder = root / data_set.name
            folder.mkdir(parents=True, exist_ok=True)
            events, labels = simulate(data_set, folder, console)
            inputs = BacktestInputs(
                events, labels, report_dir=folder / "report", top_k=args.top_k, model=model
            )
            with console.status(f"backtesting {data_set.name}"):
                result = run_backtest(inputs, policy, Console(quiet=True))
            console.print(f"{data_set.name}: backtest done ({', '.join(result.runs)})")
            for run, evaluation in result.runs.items():
                by_run.setdefault(run, {})[data_set.name] = evaluation
    passed = True
    for run, results in by_run.items():
        table, ok = targets(run, results)
        console.print(table)
        console.print(f"{run}: {'all targets met' if ok else 'targets not met'}")
        passed = passed and ok
    return 0 if passed or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
