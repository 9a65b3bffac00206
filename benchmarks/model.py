"""What the learned model costs a score request: ``feature_row`` and ``probability`` of
one transaction at a time, and ``contributions`` (asked for friction decisions only).

The evidence is real: the offline scoring pass over a simulated day (the shipped rules,
long-horizon profiles built from the day's own events). The model is the artefact given,
or one trained here on that day (its quality does not matter to its speed: its tree
count and depth do, and are printed).

    RISKSTREAM_DEVELOPMENT=1 .venv/bin/python -m benchmarks.model [--model model.json]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.figures import figures_table
from riskstream.agents.model_artefact import ModelArtefact
from riskstream.agents.model_features import FEATURES, feature_row
from riskstream.agents.scoring import Evidence
from riskstream.offline.rules import rule_center
from riskstream.offline.scoring_pass import ScoringPass
from riskstream.offline.training import collect, train
from riskstream.simulation.config import DEFAULT_START

console = Console()
REPEATS = 5  # timed passes over the sample; the median pass is reported


def per_call_us(sample: list[Any], call: Callable[[Any], object]) -> tuple[float, float]:
    """Median over ``REPEATS`` passes of the mean microseconds of one call: wall clock,
    and CPU time of this process (the figure a busy shared machine disturbs least)."""
    walls, cpus = [], []
    for _ in range(REPEATS):
        started, cpu = time.perf_counter(), time.process_time()
        for item in sample:
            call(item)
        walls.append((time.perf_counter() - started) / len(sample) * 1e6)
        cpus.append((time.process_time() - cpu) / len(sample) * 1e6)
    return statistics.median(walls), statistics.median(cpus)


def shown(figure: tuple[float, float]) -> str:
    return f"{figure[1]:.1f} µs CPU ({figure[0]:.1f} µs wall)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        events, labels = Path(folder) / "events.jsonl", Path(folder) / "labels.jsonl"
        subprocess.run(
            [sys.executable, "-m", "riskstream", "simulate", "--customers", str(args.customers),
             "--out", str(events), "--labels", str(labels)],
            check=True, capture_output=True,
        )  # fmt: skip
        scoring = ScoringPass(rule_center())
        scoring.load(events)
        evidence: list[Evidence] = [scored.evidence for scored in scoring.run()]
        if args.model is not None:
            model = ModelArtefact.from_bytes(args.model.read_bytes())
        else:
            cutoff = DEFAULT_START + timedelta(days=1)
            model = train(collect(events, cutoff, labels_file=labels), cutoff)
    sample = evidence[: args.sample]
    rows = [feature_row(item, model.features) for item in sample]
    feature_us = per_call_us(sample, lambda item: feature_row(item, model.features))
    predict_us = per_call_us(rows, model.probability)
    explain_us = per_call_us(rows[:500], lambda row: model.contributions(row, 3))
    trees = model.card.metrics.get("trees")
    figures = [
        ("transactions sampled", f"{len(sample):,} of {len(evidence):,}"),
        ("features", f"{len(FEATURES)}"),
        ("model", f"{model.model_id} {model.version}, {trees or '?'} trees"),
        ("feature_row(evidence), one transaction", shown(feature_us)),
        ("probability(row), one row, 1 thread", shown(predict_us)),
        (
            "feature_row + probability",
            shown((feature_us[0] + predict_us[0], feature_us[1] + predict_us[1])),
        ),
        ("contributions(row, 3), friction decisions only", shown(explain_us)),
    ]
    console.print(figures_table("learned model, per score request", figures))


if __name__ == "__main__":
    main()
