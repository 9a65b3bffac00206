"""The native module under test: built and installed by ``make install``.

These tests never skip: without the module they fail and say how to build it.
"""

from __future__ import annotations

from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def native() -> ModuleType:
    try:
        import riskstream_native  # noqa: PLC0415 - a failure here is the test's message
    except ImportError as error:
        pytest.fail(
            f"the native module riskstream_native is not importable ({error}); "
            "`make install` builds it (Rust from rustup and maturin from the dev extras)",
            pytrace=False,
        )
    return riskstream_native
