"""The ``riskstream`` command: Faust's ``worker`` plus riskstream's own commands.

One module per command (or family of them); :mod:`.program` assembles them.
"""

from __future__ import annotations

import asyncio

__all__ = ["main"]


def main() -> None:
    """The console script's entry point (``riskstream = riskstream.cli:main``)."""
    use_uvloop()
    from riskstream.cli.program import main as run  # noqa: PLC0415 - Faust and the app

    run()


def use_uvloop() -> None:
    """Every loop of the process is uvloop's (libuv), where it is built: a third less CPU
    per HTTP request than asyncio's own loop on the plain aiohttp hello-world. Set before
    Faust's worker makes its loop; not in :func:`riskstream.cli.program.main`, which the
    tests call in their own process."""
    try:
        import uvloop  # noqa: PLC0415 - absent on Windows
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
