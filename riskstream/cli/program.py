"""The program: Faust's CLI (``worker`` and friends) plus our commands."""

from __future__ import annotations

from riskstream.app import create_app
from riskstream.cli import commands


def main() -> None:
    app = create_app()
    commands.register(app)
    app.main()
