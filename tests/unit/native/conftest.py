"""The native module under test: ``riskstream.core``, the door to the Rust core that
``make install`` builds into the package as ``riskstream._core``."""

from __future__ import annotations

from types import ModuleType

import pytest

from riskstream import core


@pytest.fixture(scope="session")
def native() -> ModuleType:
    return core
