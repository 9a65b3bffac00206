"""The base of riskstream's commands, and how a command fails: one line on stderr.

Faust runs a command inside a :class:`mode.Worker`, which logs any exception the command
raises with its traceback. A mistake of the caller's (a usage error, no broker) is not
a bug: the command says what is wrong in one line, prefixed with the command, and exits
non-zero.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

import click
from faust.cli import AppCommand
from kafka.errors import KafkaError
from pydantic import ValidationError

from riskstream.cli.broker import NoBrokerError
from riskstream.streams.kafka_security import KafkaSecurityError
from riskstream.streams.settings import get_settings

USAGE_EXIT = 2  # click's exit status for a usage error
FAILURE_EXIT = 1


def one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def usage_line(error: click.UsageError, command_path: str) -> str:
    message = one_line(error.format_message()).rstrip(".")
    return f"{command_path}: {message}; see `{command_path} --help`"


def settings_line(error: ValidationError) -> str:
    """Which settings are wrong and why, in one line. The values are not repeated: a
    setting may be a secret."""
    problems = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"]).upper()
        if name and not name.startswith("RISKSTREAM_"):
            name = f"RISKSTREAM_{name}"
        problems.append(f"{name or 'settings'}: {problem['msg']}")
    return "bad setting " + "; ".join(problems)


def fail(command_path: str, message: str, code: int = FAILURE_EXIT) -> NoReturn:
    """End the program: ``<command path>: <message>`` on stderr, exit status ``code``."""
    click.echo(f"{command_path}: {one_line(message)}", err=True)
    raise SystemExit(code)


class Command(AppCommand):
    """A riskstream command (``@app.command(..., base=Command)``): a usage error, an
    unreachable broker or a Kafka error ends it with one line, not a traceback."""

    abstract: ClassVar[bool] = True  # a base: Faust registers its subclasses, not it

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        path = self.ctx.command_path
        try:
            return await super().execute(*args, **kwargs)
        except click.UsageError as error:
            click.echo(usage_line(error, path), err=True)
            raise SystemExit(USAGE_EXIT) from None
        except (NoBrokerError, KafkaSecurityError) as error:
            fail(path, str(error))
        except KafkaError as error:
            fail(path, f"Kafka at {get_settings().kafka_bootstrap}: {error}")
