"""One small seeded run shared by the simulator's tests (generating it takes ~0.3 s)."""

from __future__ import annotations

import pytest

from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import Dataset, generate

SMALL = SimulationConfig(seed=11, customers=300, days=2.0, fraud_per_pattern=2)


@pytest.fixture(scope="session")
def small() -> Dataset:
    return generate(SMALL)


@pytest.fixture(scope="session")
def small_lines(small: Dataset) -> list[bytes]:
    return [event.encode() for event in small.events]
