"""``riskstream backtest``: replay with ground truth, current rules against a candidate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.evaluation import Collector, Evaluation, evaluate
from riskstream.offline.jsonl import BadLine, in_event_time_order, read_events
from riskstream.offline.labels import read_labels
from riskstream.offline.plots import plot_alerts_per_day, plot_pr_curves
from riskstream.offline.replay import Replayer
from riskstream.offline.report import build_tables, write_markdown
from riskstream.offline.rules import rule_center


@dataclass(frozen=True, slots=True)
class BacktestInputs:
    events: Path
    labels: Path
    candidate: Path | None = None  # rule files or a directory
    current: Path | None = None  # default: the shipped rules
    report_dir: Path = Path("backtest-report")


@dataclass(slots=True)
class BacktestResult:
    runs: dict[str, Evaluation] = field(default_factory=dict)
    bad_events: list[BadLine] = field(default_factory=list)
    bad_labels: list[BadLine] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def run_backtest(
    inputs: BacktestInputs, policy: DecisionPolicy | None = None, console: Console | None = None
) -> BacktestResult:
    console = console or Console(stderr=True)
    # Rules first: a bad rule file stops the run before any work is done.
    centers = {"current": rule_center(inputs.current)}
    if inputs.candidate is not None:
        centers["candidate"] = rule_center(inputs.candidate)
    truth, bad_labels = read_labels(inputs.labels)
    events, bad_events = read_events(inputs.events)
    ordered = in_event_time_order(events)
    result = BacktestResult(bad_events=bad_events, bad_labels=bad_labels)
    for name, center in centers.items():
        with console.status(f"replaying {len(ordered):,} events with the {name} rules"):
            collector = Collector(truth)
            Replayer(center, policy).run(ordered, collector)
        modes: dict[str, str] = {
            rule_id: rule.doc.mode for rule_id, rule in center.ruleset.rules.items()
        }
        result.runs[name] = evaluate(collector, modes)

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
    preamble = (
        f"Events: `{inputs.events}` ({len(events):,} replayed, {len(bad_events):,} invalid "
        f"lines skipped). Labels: `{inputs.labels}` ({len(truth.instances):,} instances, "
        f"{len(fraud):,} of them fraud: {attack:,} attack and {context:,} context events). "
        f"Current rules: {inputs.current or 'shipped'}; candidate: {inputs.candidate or 'none'}."
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
