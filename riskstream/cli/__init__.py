"""The ``riskstream`` command: Faust's ``worker`` plus riskstream's own commands.

One module per command (or family of them); :mod:`.program` assembles them.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """The console script's entry point (``riskstream = riskstream.cli:main``)."""
    from riskstream.cli.program import main as run  # noqa: PLC0415 - Faust and the app

    run()
