"""How many events per second the rule engine's functional core handles on one core.

Decoding and validation included, Kafka excluded: a simulated day of wallet traffic
(``riskstream simulate``) through the default pack with in-memory state (the same code
the worker runs per event).

    .venv/bin/python -m benchmarks.engine_throughput [--customers 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

from rich.console import Console

from benchmarks.figures import figures_table
from riskstream.agents.cep.expressions import compile_expression
from riskstream.agents.cep.runner import LocalRunner
from riskstream.agents.validation import parse_event
from riskstream.rules.loader import default_ruleset
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate


def cel_cost(rounds: int = 20_000, *, reference: bool = False) -> float:
    """Microseconds per evaluation of a compiled CEL condition with a realistic context:
    as rules run it (the native fast path), or by the ``cel`` package itself."""
    expression = compile_expression(
        'event.type == "withdrawal" && event.status != "failed" && event.amount > 500.0', "bench"
    )
    variables = {
        "event": {"type": "withdrawal", "status": "succeeded", "amount": 800.0, "ip": "10.0.0.1",
                  "device_id": "d", "account_id": "a", "currency": "CNY", "ts": 1.0},
        "entity": {"idle_seconds": 0.0},
    }  # fmt: skip
    evaluate = expression.evaluate_cel if reference else expression.test
    started = time.perf_counter()
    for _ in range(rounds):
        evaluate(variables)
    return (time.perf_counter() - started) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    raw = [event.encode() for event in generate(SimulationConfig(customers=args.customers)).events]
    rules = default_ruleset()
    rates = []
    signals: Counter[str] = Counter()
    for _ in range(args.repeat):
        runner = LocalRunner(rules)
        signals.clear()
        started = time.perf_counter()
        for payload in raw:
            for signal in runner.signals(parse_event(payload, max_bytes=65536)):
                signals[signal.rule_id] += 1
        rates.append(len(raw) / (time.perf_counter() - started))
    rows = [
        ("events/s (median of runs)", f"{statistics.median(rates):,.0f}"),
        ("events/s (best)", f"{max(rates):,.0f}"),
        ("µs per event (median)", f"{1e6 / statistics.median(rates):,.1f}"),
        ("µs per CEL evaluation (a pack condition)", f"{cel_cost():.1f}"),
        ("µs per evaluation by the cel package itself", f"{cel_cost(reference=True):.1f}"),
        *((f"signals: {rule_id}", str(count)) for rule_id, count in sorted(signals.items())),
    ]
    title = f"rule engine core: {len(raw)} events, {len(rules.rules)} rules"
    console.print(figures_table(title, rows))


if __name__ == "__main__":
    main()
