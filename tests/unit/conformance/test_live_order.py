"""Windows when events arrive out of event-time order (``tests/conformance/live/``).

Replay applies events in time order; the live engine applies them as they arrive, and
an entry that comes late changes the windows of the entries after it. Each case holds
events in arrival order and the signals each one gave, recorded from the core when it
read every such window whole. The core now takes those windows from its running window
or from one pass over the entries: the signals must be the same, event by event, with
decoded states kept between events (as the worker keeps them) and without.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from riskstream.agents.validation import event_from_mapping
from tests.unit.rules.harness import Runner, rules_from_yaml

CASES = Path(__file__).parents[2] / "conformance" / "live" / "windows_out_of_order.json"
DOCUMENT: dict[str, Any] = orjson.loads(CASES.read_bytes())


@pytest.mark.parametrize("cache_bytes", [1 << 24, 0], ids=["cached", "decoded"])
@pytest.mark.parametrize("case", DOCUMENT["cases"], ids=lambda case: case["name"])
def test_out_of_order_windows_give_the_recorded_signals(
    case: dict[str, Any], cache_bytes: int
) -> None:
    runner = Runner(rules_from_yaml(case["rules"]), cache_bytes=cache_bytes)
    for body, expected in zip(case["events"], case["signals"], strict=True):
        signals = runner.signals(event_from_mapping(body))
        got = [orjson.loads(orjson.dumps(signal.model_dump(mode="json"))) for signal in signals]
        assert got == expected, body["event_id"]


def test_the_cases_fire() -> None:
    fired = sum(len(signals) for case in DOCUMENT["cases"] for signals in case["signals"])
    assert fired >= 100
