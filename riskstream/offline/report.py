"""The backtest report: the same tables in the terminal (rich) and in Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from riskstream.offline.evaluation import Evaluation
from riskstream.offline.labels import EventClass

DECISIONS = ("accept", "review", "challenge", "reject")


@dataclass(frozen=True, slots=True)
class ReportTable:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def rich(self) -> Table:
        table = Table(title=self.title)
        for index, column in enumerate(self.columns):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in self.rows:
            table.add_row(*row)
        return table

    def markdown(self) -> str:
        align = ["---"] + ["---:"] * (len(self.columns) - 1)
        lines = [
            f"### {self.title}",
            "",
            "| " + " | ".join(self.columns) + " |",
            "| " + " | ".join(align) + " |",
        ]
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows
        ]
        return "\n".join(lines) + "\n"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def overview(runs: dict[str, Evaluation]) -> ReportTable:
    names = tuple(runs)
    measures: list[tuple[str, ...]] = [
        ("alerts", *(f"{e.alerts:,}" for e in runs.values())),
        ("alert precision", *(pct(e.precision) for e in runs.values())),
        ("fraud instances detected", *(
            f"{e.detected_instances}/{e.fraud_instances} ({pct(e.recall)})" for e in runs.values()
        )),
        ("transactions scored", *(f"{e.transactions:,}" for e in runs.values())),
        ("fraud transactions (attack)", *(f"{e.fraud_transactions:,}" for e in runs.values())),
        ("context transactions (in neither class)", *(
            f"{e.context_transactions:,}" for e in runs.values()
        )),
        ("score ROC AUC", *(num(e.roc_auc) for e in runs.values())),
        ("score average precision", *(num(e.average_precision) for e in runs.values())),
        ("cannot judge (-1)", *(f"{e.unjudged:,}" for e in runs.values())),
    ]  # fmt: skip
    return ReportTable("Overview", ("measure", *names), measures)


def rules_table(runs: dict[str, Evaluation]) -> ReportTable:
    names = list(runs)
    by_run = {name: {rule.rule_id: rule for rule in e.rules} for name, e in runs.items()}
    rule_ids = sorted({rule_id for results in by_run.values() for rule_id in results})
    columns = ["rule"]
    for name in names:
        prefix = f"{name}: " if len(names) > 1 else ""
        columns += [f"{prefix}mode", f"{prefix}alerts", f"{prefix}precision",
                    f"{prefix}recall", f"{prefix}look-alikes hit"]  # fmt: skip
    rows = []
    for rule_id in rule_ids:
        row = [rule_id]
        for name in names:
            rule = by_run[name].get(rule_id)
            if rule is None:
                row += ["absent", "-", "-", "-", "-"]
                continue
            row += [rule.mode, f"{rule.alerts:,}", pct(rule.precision), pct(rule.own_recall),
                    str(rule.false_alarms)]  # fmt: skip
        rows.append(tuple(row))
    return ReportTable("Rules (recall: of the scenario named after the rule)", tuple(columns), rows)


def scenarios_table(name: str, evaluation: Evaluation) -> ReportTable:
    rows: list[tuple[str, ...]] = [
        (
            result.scenario,
            str(result.instances),
            f"{result.by_own_rule} ({pct(result.recall)})",
            f"{result.by_any_rule} ({pct(result.recall_any)})",
            f"{result.look_alikes_alerted}/{result.look_alikes}",
            f"{result.by_decision} ({pct(result.recall_decided)})",
        )
        for result in evaluation.scenarios
    ]
    columns = ("scenario", "fraud instances", "by its rule", "by any rule", "look-alikes alerted",
               "by decision (review+)")  # fmt: skip
    return ReportTable(f"Scenarios: {name}", columns, rows)


def decisions_table(name: str, evaluation: Evaluation) -> ReportTable:
    rows = []
    classes: tuple[tuple[EventClass, str], ...] = (
        ("fraud", "fraud (attack)"),
        ("legit", "legitimate"),
        ("context", "context of fraud (in neither)"),
    )
    for truth, label in classes:
        counts = [evaluation.decisions[(decision, truth)] for decision in DECISIONS]
        rows.append((label, *(f"{count:,}" for count in counts)))
    return ReportTable(f"Decisions by ground truth: {name}", ("transactions", *DECISIONS), rows)


def build_tables(runs: dict[str, Evaluation]) -> list[ReportTable]:
    tables = [overview(runs), rules_table(runs)]
    for name, evaluation in runs.items():
        tables += [scenarios_table(name, evaluation), decisions_table(name, evaluation)]
    return tables


def write_markdown(
    tables: list[ReportTable], images: list[Path], path: Path, preamble: str
) -> Path:
    parts = ["# Backtest report", "", preamble, ""]
    parts += [table.markdown() for table in tables]
    parts += [f"![{image.stem}]({image.name})\n" for image in images]
    path.write_text("\n".join(parts))
    return path
