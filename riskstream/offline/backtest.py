"""``riskstream backtest``: replay with ground truth, current rules against a candidate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson
from rich.console import Console

from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.evaluation import Collector, Evaluation, evaluate
from riskstream.offline.jsonl import BadLine
from riskstream.offline.labels import GroundTruth, read_labels
from riskstream.offline.model_backtest import load_model, model_runs
from riskstream.offline.native import NativeReplay
from riskstream.offline.plots import plot_alerts_per_day, plot_pr_curves
from riskstream.offline.report import build_tables, write_markdown
from riskstream.offline.rules import rule_center
from riskstream.offline.run import NATIVE_CHUNK


@dataclass(frozen=True, slots=True)
class BacktestInputs:
    events: Path
    labels: Path
    candidate: Path | None = None  # rule files or a directory
    current: Path | None = None  # default: the shipped rules
    report_dir: Path = Path("backtest-report")
    model: Path | None = None  # a model artefact: "rules" and "rules+model" runs


@dataclass(slots=True)
class BacktestResult:
    runs: dict[str, Evaluation] = field(default_factory=dict)
    bad_events: list[BadLine] = field(default_factory=list)
    bad_labels: list[BadLine] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def run_backtest(
    inputs: BacktestInputs,
    policy: DecisionPolicy | None = None,
    console: Console | None = None,
) -> BacktestResult:
    """Replay the events on the core with the current rules and the candidate ones, and
    judge both against the labels."""
    console = console or Console(stderr=True)
    # Rules first: a bad rule file, or rules the core cannot run, stop the run before any
    # work is done.
    centers = {"current": rule_center(inputs.current)}
    if inputs.candidate is not None:
        centers["candidate"] = rule_center(inputs.candidate)
    model = load_model(inputs.model) if inputs.model is not None else None
    if model is not None:  # the current rules run in the model's pass instead
        current = centers.pop("current")
    replays = {name: NativeReplay(center, policy) for name, center in centers.items()}
    truth, bad_labels = read_labels(inputs.labels)
    result = BacktestResult(bad_labels=bad_labels)
    replayed = 0
    if model is not None:
        with console.status(f"scoring the events with the rules and model {model.version}"):
            runs, replayed, result.bad_events = model_runs(
                inputs.events, current, model, truth, policy
            )
        result.runs.update(runs)
    for name, center in centers.items():
        with console.status(f"replaying the events with the {name} rules"):
            replay = replays.pop(name)
            collector, replayed, result.bad_events = _replay(inputs.events, replay, truth)
        modes: dict[str, str] = {
            rule_id: rule.doc.mode for rule_id, rule in center.ruleset.rules.items()
        }
        result.runs[name] = evaluate(collector, modes)
    bad_events = result.bad_events

    report_dir = inputs.report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    images = [plot_pr_curves(result.runs, report_dir / "precision_recall.png")]
    images += [
        plot_alerts_per_day(evaluation, name, report_dir / f"alerts_per_day_{name}.png")
        for name, evaluation in result.runs.items()
    ]
    tables = build_tables(result.runs)
    for table in tables:
        console.print(table.rich())
    fraud = [item for item in truth.instances.values() if item.fraud]
    attack = sum(len(item.attack_ids) for item in fraud)
    context = sum(len(item.event_ids) - len(item.attack_ids) for item in fraud)
    used = f"; model: `{inputs.model}` ({model.model_id} {model.version})" if model else ""
    preamble = (
        f"Events: `{inputs.events}` ({replayed:,} replayed, {len(bad_events):,} invalid "
        f"lines skipped). Labels: `{inputs.labels}` ({len(truth.instances):,} instances, "
        f"{len(fraud):,} of them fraud: {attack:,} attack and {context:,} context events). "
        f"Current rules: {inputs.current or 'shipped'}; candidate: {inputs.candidate or 'none'}"
        f"{used}."
        "\n\nAlerts are judged by instance: an alert is true when an event behind it belongs "
        "to a fraud instance, whatever its role; an instance is detected when an alert cites "
        "any of its events. Transactions are judged by role: a fraud instance's attack "
        "transactions are fraud, unlabelled and look-alike ones legitimate; the context "
        "transactions of a fraud instance (a victim's ordinary history, a merchant's normal "
        "sales) are in neither class of the score measures and are counted apart."
    )
    markdown = write_markdown(tables, images, report_dir / "report.md", preamble)
    result.files = [markdown, *images]
    return result


def _replay(
    events: Path, replay: NativeReplay, truth: GroundTruth
) -> tuple[Collector, int, list[BadLine]]:
    """The replay of the events file: (what it produced, events replayed, bad lines)."""
    bad = replay.load(events)
    collector = Collector(truth)
    for _ in range(0, len(replay), NATIVE_CHUNK):
        decisions, signals, shadow = replay.run(NATIVE_CHUNK)
        collector.add_alerts(signals, shadow)
        for line in decisions.splitlines():
            record = orjson.loads(line)
            collector.add_decision(record["event_id"], record["score"], record["decision"])
    return collector, len(replay), bad
