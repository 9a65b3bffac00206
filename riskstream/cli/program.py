"""The program: Faust's command line (its click group) speaking as riskstream.

Faust's group is riskstream's program with riskstream's description, version and
commands, plus Faust's ``worker``; Faust's other commands still run but are not listed.
A usage error or an unreachable broker is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import functools
import sys
from importlib.metadata import metadata
from typing import Any

import click
from faust.cli.faust import cli as faust_group
from mode.utils.logging import DEFAULT_FORMATTERS
from pydantic import ValidationError

from riskstream.app import create_app
from riskstream.cli import commands
from riskstream.cli.broker import NoBrokerError, require_broker
from riskstream.cli.command import USAGE_EXIT, fail, one_line, settings_line, usage_line
from riskstream.streams import kafka_security
from riskstream.streams.app import RiskApp, WebCertificateError
from riskstream.streams.redaction import missing_token_secret
from riskstream.streams.settings import get_settings

PROG = "riskstream"
# Faust's commands that riskstream's users do not need (they inspect or poke a Faust
# app from outside); they still run when named.
HIDDEN_COMMANDS = (
    "agents", "clean_versions", "completion", "livecheck", "models", "reset",
    "send", "tables",
)  # fmt: skip
# Faust's options that mean nothing here: the app is riskstream's (--app), its data
# directory is RISKSTREAM_DATA_DIR (--datadir), and --json is for Faust's commands only.
HIDDEN_OPTIONS = ("app", "datadir", "json")
WORKER_HELP = "Run a worker: ingest, rules, scoring, web console, metrics."


def main(argv: list[str] | None = None) -> None:
    colour_logs_only_on_a_terminal()
    try:
        app = create_app()
    except ValidationError as error:  # a setting from the environment is wrong
        click.echo(f"{PROG}: {settings_line(error)}", err=True)
        sys.exit(USAGE_EXIT)
    except WebCertificateError as error:
        click.echo(f"{PROG}: {one_line(str(error))}", err=True)
        sys.exit(USAGE_EXIT)
    except kafka_security.KafkaSecurityError as error:
        # Every command's app carries the Kafka login: none runs on settings that
        # cannot work.
        click.echo(f"{PROG}: {one_line(str(error))}", err=True)
        sys.exit(1)
    commands.register(app)
    sys.exit(run(dress(faust_group), app, argv))


def colour_logs_only_on_a_terminal() -> None:
    """Log lines go to stderr, but mode's formatter asks stdout whether to colour them:
    ``riskstream worker 2>worker.log`` from a terminal wrote colour codes into the file.
    Its formatter asks stderr instead."""
    coloured = DEFAULT_FORMATTERS["colored"]
    assert isinstance(coloured, dict)
    coloured["stream"] = sys.stderr


def dress(group: click.Group) -> click.Group:
    """Faust's group with riskstream's description, version and commands on show."""
    about = metadata(PROG)["Summary"]
    group.help = f"{about}\n\n`{PROG} COMMAND --help` shows a command's options."
    group.params = [param for param in group.params if param.name != "version"]
    click.version_option(package_name=PROG, prog_name=PROG, message="%(prog)s %(version)s")(group)
    for param in group.params:
        if param.name in HIDDEN_OPTIONS and isinstance(param, click.Option):
            param.hidden = True
    for name, command in group.commands.items():
        if name.replace("-", "_") in HIDDEN_COMMANDS:
            command.hidden = True
    worker = group.commands["worker"]
    worker.help = worker.short_help = WORKER_HELP
    _check_before_starting(worker)
    return group


def _check_before_starting(command: click.Command) -> None:
    """The worker starts only with a token secret (or in development) and a broker to
    talk to that takes its login (Kafka security settings that cannot work stop every
    command earlier, in :func:`main`)."""
    start = command.callback
    assert start is not None

    @functools.wraps(start)
    def checked(*args: Any, **kwargs: Any) -> Any:
        settings = get_settings()
        path = click.get_current_context().command_path
        refused = missing_token_secret(settings)
        if refused is not None:
            fail(path, refused)
        if settings.token_secret is None:
            click.echo(f"{path}: development: tokens use the published secret", err=True)
        try:
            require_broker(settings)
        except (NoBrokerError, kafka_security.KafkaSecurityError) as error:
            fail(path, str(error))
        return start(*args, **kwargs)

    command.callback = checked


def run(group: click.Group, app: RiskApp, argv: list[str] | None = None) -> int:
    """Parse and run one command line as ``app.main()`` does (the app never autodiscovers),
    but with the errors that click prints as usage and help in one line; returns the exit
    status."""
    app.finalize()
    app.worker_init()
    app.worker_init_post_autodiscover()
    try:
        status = group.main(args=argv, prog_name=PROG, standalone_mode=False, app=app)
    except click.exceptions.NoArgsIsHelpError as error:
        error.show()
        return error.exit_code
    except click.UsageError as error:
        path = error.ctx.command_path if error.ctx is not None else PROG
        click.echo(usage_line(error, path), err=True)
        return error.exit_code
    except click.ClickException as error:
        click.echo(f"{PROG}: {one_line(error.format_message())}", err=True)
        return error.exit_code
    except click.Abort:
        click.echo(f"{PROG}: aborted", err=True)
        return 1
    return status if isinstance(status, int) else 0
