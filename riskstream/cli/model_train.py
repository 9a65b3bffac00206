"""``riskstream model train`` and ``riskstream model card``: the work behind the commands
(``cli/models.py`` parses them)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.agents.model_thresholds import DecisionThresholds, FrictionBudgets
from riskstream.agents.scoring import DecisionPolicy
from riskstream.streams.settings import Settings

# Without a terminal (a log file, CI) there is no bar: a line every so many events.
PLAIN_PROGRESS_EVERY = 50_000


class ModelCommandError(ValueError):
    """A mistake of the caller's, told in one line."""


def parse_instant(option: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ModelCommandError(f"{option} {text!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise ModelCommandError(f"{option} {text!r} needs a time zone, e.g. 2026-11-09T00:00Z")
    return moment


def friction_budgets(
    settings: Settings, review: float | None, challenge: float | None, reject: float | None
) -> FrictionBudgets:
    """The settings' budgets (``RISKSTREAM_SCORE_*_BUDGET``), each option given instead."""
    try:
        return FrictionBudgets.of(settings, review, challenge, reject)
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"--{part}-budget: " for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ModelCommandError(f"{where}{message}") from None


def train_command(
    events: str,
    cutoff: str,
    train_from: str | None,
    out: str,
    labels_from: str,
    labels: str | None,
    model_id: str,
    policy: DecisionPolicy,
    console: Console,
    *,
    budgets: FrictionBudgets,
) -> ModelArtefact:
    """Train, write the artefact, print its card."""
    from riskstream.offline import training  # noqa: PLC0415 - LightGBM and the core

    cut = parse_instant("--cutoff", cutoff)
    start = parse_instant("--train-from", train_from) if train_from else None
    if start is not None and start >= cut:
        raise ModelCommandError("--train-from must be before --cutoff")
    if labels_from not in {"feedback", "labels"}:
        raise ModelCommandError(f"--labels-from {labels_from!r}: use feedback or labels")
    if (labels_from == "labels") != (labels is not None):
        raise ModelCommandError("--labels FILE goes with --labels-from labels, and only with it")
    events_path = Path(events)
    if not events_path.is_file():
        raise ModelCommandError(f"no events file at {events}")
    labels_path = Path(labels) if labels else None
    if labels_path is not None and not labels_path.is_file():
        raise ModelCommandError(f"no labels file at {labels}")
    started = time.perf_counter()
    with _progress(console) as progress:
        task = progress.add_task("scoring the transactions before the cut-off", total=None)

        def told(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            if not console.is_terminal and done % PLAIN_PROGRESS_EVERY == 0:
                console.print(f"scored {done:,} of {total:,} events", markup=False)

        found = training.collect(events_path, cut, start, labels_path, policy=policy, progress=told)
    collected = time.perf_counter() - started
    console.print(
        f"{len(found):,} rows, {sum(found.labels):,} labelled fraud ({collected:.1f} s); "
        "training", markup=False,
    )  # fmt: skip
    try:
        artefact = training.train(
            found, cut, model_id=model_id, labels_from=labels_from, budgets=budgets
        )
    except training.TrainingError as error:
        raise ModelCommandError(str(error)) from None
    trained = time.perf_counter() - started - collected
    Path(out).write_bytes(artefact.to_bytes())
    console.print(card_table(artefact))
    console.print(
        f"wrote {out} (model {artefact.model_id} version {artefact.version}; "
        f"scored in {collected:.1f} s, trained in {trained:.1f} s)", markup=False,
    )  # fmt: skip
    return artefact


def load_artefact(path: str) -> ModelArtefact:
    """An artefact file, checked as a worker checks one; a bad one is one line."""
    file = Path(path)
    if not file.is_file():
        raise ModelCommandError(f"no model file at {path}")
    try:
        return ModelArtefact.from_bytes(file.read_bytes())
    except ValueError as error:
        raise ModelCommandError(f"{path}: {error}") from None


def card_table(artefact: ModelArtefact) -> Table:
    card = artefact.card
    table = Table(title=f"model {artefact.model_id} {artefact.version}")
    table.add_column("field")
    table.add_column("value")
    rows: list[tuple[str, str]] = [
        ("created", artefact.record.created_at.isoformat()),
        ("library", artefact.record.library),
        ("features", f"{len(artefact.features)}"),
        ("training window", f"{card.train_from.isoformat()} .. {card.train_to.isoformat()}"),
        ("label cut-off", card.label_cutoff.isoformat()),
        ("labels from", card.labels_from),
        ("rows (fraud)", f"{card.rows:,} ({card.positives:,})"),
        ("validation tail (fraud)", f"{card.validation_rows:,} ({card.validation_positives:,})"),
        ("calibration", artefact.record.calibration.kind),
    ]
    rows += [(name, f"{value:.4f}") for name, value in sorted(card.metrics.items())]
    rows += threshold_rows(artefact.thresholds)
    rows += [(f"importance: {name}", f"{gain:,.1f}") for name, gain in card.importances]
    for field, value in rows:
        table.add_row(field, value)
    return table


def threshold_rows(thresholds: DecisionThresholds | None) -> list[tuple[str, str]]:
    """The card's lines of the decision thresholds (budget, probability, what it spent)."""
    if thresholds is None:
        return [("thresholds", "none: points = round(100 x probability)")]
    rows = []
    for name, choice in zip(("review", "challenge", "reject"), thresholds.choices(), strict=True):
        at = "never (a legitimate row at 1)" if choice.probability is None else (
            f"p >= {choice.probability:.6g}"
        )  # fmt: skip
        spent = choice.legitimate_at_or_above / thresholds.legitimate_rows
        rows.append((
            f"threshold: {name}",
            f"{at}; budget {choice.budget:.2%}, spent {spent:.2%} "
            f"({choice.legitimate_at_or_above:,} of {thresholds.legitimate_rows:,} legitimate)",
        ))  # fmt: skip
    return rows


def _progress(console: Console) -> Progress:
    return Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=console, transient=True,
    )  # fmt: skip


Say = Callable[[str], None]
