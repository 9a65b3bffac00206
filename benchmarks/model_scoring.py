"""What a learned model costs the live scorer, per request, in one process (no HTTP).

Trains a booster of the size ``riskstream model train`` makes (``--trees`` trees of 31
leaves on every feature of ``model_features.FEATURES``, synthetic rows), deploys it on a
book as the scorer does, and times on one transaction with signals on its account and
device and on one without: the rules' own decision (``score`` without a model), the
feature row, the calibrated predict, the contributions (``pred_contrib``), the whole
decision with the model active (an accept, and a challenge, whose MODEL reason names
the strongest features), and with a shadow beside it. The calibration is shifted so that
the transaction without signals is an accept.

    .venv/bin/python -m benchmarks.model_scoring [--trees 200] [--repeat 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import lightgbm as lgb
import numpy as np
from rich.console import Console

from benchmarks.figures import figures_table
from riskstream.agents.model_artefact import ModelArtefact, ModelCard, PlattCalibration
from riskstream.agents.model_features import FEATURES, feature_row
from riskstream.agents.model_serving import ServedModels, model_book
from riskstream.agents.scoring import DecisionPolicy, Evidence, gather, score
from riskstream.streams.events import Transaction
from riskstream.streams.model_record import ModelRecord
from riskstream.tables.books import PenaltyBook, ProfileBook

NOW = datetime.now(UTC)
POLICY = DecisionPolicy()


def booster(trees: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(5_000, len(FEATURES)))
    labels = (rows[:, 0] + rows[:, 1] * rows[:, 2] + rng.normal(size=5_000) > 1.5).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_leaves": 31, "num_threads": 1,
              "seed": seed}  # fmt: skip
    data = lgb.Dataset(rows, labels, feature_name=list(FEATURES))
    return str(lgb.train(params, data, num_boost_round=trees).model_to_string())


def artefact(model_id: str, trees: int, seed: int) -> ModelArtefact:
    """A booster whose calibrated probability is low (an accept) on the bench's rows."""
    card = ModelCard(train_from=NOW - timedelta(days=14), train_to=NOW - timedelta(days=7),
                     label_cutoff=NOW, rows=5_000, positives=800, metrics={})  # fmt: skip
    return ModelArtefact.build(
        model_id=model_id, created_at=NOW, features=FEATURES, booster=booster(trees, seed),
        calibration=PlattCalibration(a=1.0, b=-8.0), card=card,
    )  # fmt: skip


def evidence(signals: bool) -> Evidence:
    profiles = ProfileBook()
    flagged = (("account", "acc-1"), ("device", "dev-1")) if signals else ()
    for number, (kind, entity) in enumerate(flagged):
        profiles.apply_signal({
            "signal_id": f"s{number}", "pattern": "velocity_burst", "rule_id": f"r{number}",
            "severity": 45, "entity_type": kind, "entity_id": entity,
            "detected_at": (NOW - timedelta(minutes=3)).isoformat(),
            "expires_at": (NOW + timedelta(hours=1)).isoformat(),
        })  # fmt: skip
    transaction = Transaction.model_validate({
        "event_id": "t-1", "type": "payment", "occurred_at": NOW, "account_id": "acc-1",
        "amount": "1890.00", "currency": "CNY", "device_id": "dev-1", "ip": "10.1.2.3",
        "counterparty_id": "m-7", "channel": "app",
    })  # fmt: skip
    return gather(transaction, profiles, PenaltyBook(), NOW, Decimal("250"))


def timed(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    """Median and p99 microseconds of ``work`` over ``repeat`` calls (after a warm-up)."""
    for _ in range(min(200, repeat)):
        work()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        work()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2_000)
    args = parser.parse_args()
    active, shadow = (
        artefact("bench-active", args.trees, 1),
        artefact("bench-shadow", args.trees, 2),
    )
    one, two = model_book(FEATURES), model_book(FEATURES)
    for book, deployed in (
        (one, [(active, "active")]),
        (two, [(active, "active"), (shadow, "shadow")]),
    ):
        for offset, (model, mode) in enumerate(deployed):
            value = ModelRecord(model_id=model.model_id, mode=mode, artefact=model.to_dict())
            assert book.apply(model.model_id.encode(), value.encode(), offset) is None
    served, with_shadow = (
        ServedModels(one, FEATURES, feature_row),
        ServedModels(two, FEATURES, feature_row),
    )
    quiet, flagged = evidence(signals=False), evidence(signals=True)
    row = feature_row(flagged)

    def scored(seen: Evidence, panel: ServedModels | None) -> Callable[[], object]:
        return lambda: score(seen, [], POLICY, "v", model=panel)

    cases = [
        ("rules alone, no signal", quiet, None),
        ("rules alone, two signals", flagged, None),
        ("model active, no signal", quiet, served),
        ("model active, two signals", flagged, served),
        ("model active + one shadow, no signal", quiet, with_shadow),
    ]
    rows = [
        ("feature_row", timed(args.repeat, lambda: feature_row(flagged))),
        ("probability (calibrated predict)", timed(args.repeat, lambda: active.probability(row))),
        ("contributions, 3 strongest", timed(args.repeat, lambda: active.contributions(row, 3))),
    ]
    for name, seen, panel in cases:
        decision = score(seen, [], POLICY, "v", model=panel).decision
        rows.append((f"score(): {name} ({decision})", timed(args.repeat, scored(seen, panel))))
    size = len(active.to_bytes())
    Console().print(figures_table(
        f"model in the scorer: {len(FEATURES)} features, {args.trees} trees, artefact {size:,} B",
        [(name, f"median {p50:,.0f} µs, p99 {p99:,.0f} µs") for name, (p50, p99) in rows],
    ))  # fmt: skip


if __name__ == "__main__":
    main()
