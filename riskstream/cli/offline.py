"""Offline commands: replay and backtest, no broker needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust
from faust.cli import AppCommand, argument, option
from rich.console import Console

from riskstream.cli.command import Command
from riskstream.streams.redaction import missing_token_secret
from riskstream.streams.settings import get_settings


def wide_console() -> Console:
    """Tables on stderr, not squeezed to 80 columns when piped to a file."""
    console = Console(stderr=True)
    if not console.is_terminal:
        console.width = 160
    return console


def check_token_secret(command: str) -> None:
    """As the worker: events are tokenised under the configured secret, so that a replay
    gives the ids live gives; none outside development stops the command."""
    settings = get_settings()
    refused = missing_token_secret(settings)
    if refused is not None:
        raise SystemExit(f"{command}: {refused}")
    if settings.token_secret is None:
        Console(stderr=True).print(
            f"{command}: development: tokens use the published secret", markup=False
        )


HANDBOOK_OPTIONS = (
    option("--seed", type=int, default=0, help="handbook: the data's seed."),
    option("--customers", type=int, default=5_000, help="handbook: customers."),
    option("--terminals", type=int, default=10_000, help="handbook: terminals."),
    option("--days", type=int, default=183, help="handbook: days of data (21 or more)."),
    option("--out", type=str, default="handbook-report", help="handbook: files go here."),
)


def backtest_handbook(
    command: AppCommand, seed: int, customers: int, terminals: int, days: int, out: str
) -> None:
    """The handbook protocol (riskstream/offline/handbook): its data, its baselines and
    riskstream's figures on it."""
    from riskstream.agents.cep.compiler import RuleError  # noqa: PLC0415
    from riskstream.agents.scoring import policy_from  # noqa: PLC0415
    from riskstream.core import Unsupported  # noqa: PLC0415
    from riskstream.offline.handbook.generator import HandbookConfig  # noqa: PLC0415
    from riskstream.offline.handbook.run import markdown, run_handbook, table  # noqa: PLC0415

    for name, value, least in (("customers", customers, 1), ("terminals", terminals, 1),
                               ("days", days, 21)):  # fmt: skip
        if value < least:
            raise command.UsageError(f"--{name} must be at least {least}, not {value}")
    if seed < 0:
        raise command.UsageError(f"--seed must be 0 or more, not {seed}")
    check_token_secret("backtest handbook")
    config = HandbookConfig(seed=seed, customers=customers, terminals=terminals, days=days)
    console = wide_console()
    directory = Path(out)
    try:
        result = run_handbook(config, directory, console, policy_from(get_settings()))
        report = directory / "handbook.md"
        report.write_text(markdown(result))
    except (OSError, ValueError, RuleError, Unsupported) as error:
        raise SystemExit(f"backtest handbook: {error}") from None
    console.print(table(result))
    for note in result.notes:
        console.print(note, markup=False)
    for path in [*result.files, report]:
        console.print(f"wrote {path}", markup=False)


def register_offline(app: faust.App) -> None:
    @app.command(
        argument("events", type=str),
        option("--signals", type=str, default=None, help="Write signals here (JSONL)."),
        option("--decisions", type=str, default=None, help="Write decisions here (JSONL)."),
        option("--shadow", type=str, default=None, help="Write shadow rules' signals here."),
        option("--rules", type=str, default=None, help="Rule files or a directory of them."),
        base=Command,
    )
    async def replay(
        self: AppCommand,
        events: str,
        signals: str | None,
        decisions: str | None,
        shadow: str | None,
        rules: str | None,
    ) -> None:
        """Replay a JSONL file of events offline, in event-time order, through the same
        rule engine and scorer as the workers (the core); no broker needed."""
        from riskstream.agents.cep.compiler import RuleError  # noqa: PLC0415
        from riskstream.agents.scoring import policy_from  # noqa: PLC0415
        from riskstream.core import Unsupported  # noqa: PLC0415
        from riskstream.offline.run import ReplayOutputs, replay_file, summary_table  # noqa: PLC0415

        check_token_secret("replay")
        outputs = ReplayOutputs(
            signals=Path(signals) if signals else None,
            decisions=Path(decisions) if decisions else None,
            shadow=Path(shadow) if shadow else None,
        )
        policy = policy_from(get_settings())
        try:
            stats, bad = replay_file(Path(events), outputs, Path(rules) if rules else None, policy)
        except (OSError, RuleError, Unsupported) as error:
            raise SystemExit(f"replay: {error}") from None
        wide_console().print(summary_table(stats, bad))

    @app.command(
        argument("events", type=str),
        option("--labels", type=str, default=None, help="Ground truth (JSONL); required."),
        option("--rules", type=str, default=None, help="Candidate rule files or directory."),
        option("--current", type=str, default=None, help="Current rules (default: shipped)."),
        option("--report-dir", type=str, default="backtest-report", help="Report goes here."),
        option("--top-k", type=int, default=100, help="k of precision@k (accounts a day)."),
        option("--model", type=str, default=None,
               help="A model artefact: runs 'rules' and 'rules+model' side by side."),
        *HANDBOOK_OPTIONS,
        base=Command,
    )  # fmt: skip
    async def backtest(
        self: AppCommand,
        events: str,
        labels: str | None,
        rules: str | None,
        current: str | None,
        report_dir: str,
        top_k: int,
        model: str | None,
        **handbook: Any,
    ) -> None:
        """Replay with ground truth: precision, recall and alert volume per rule and
        scenario, ROC AUC and average precision of the scores, current rules against a
        candidate set; a Markdown report with plots. `backtest handbook [--seed N]
        [--customers N] [--terminals N] [--days N] [--out DIR]` runs the handbook
        protocol instead (docs/offline.md#handbook-protocol)."""
        from riskstream.agents.cep.compiler import RuleError  # noqa: PLC0415
        from riskstream.agents.scoring import policy_from  # noqa: PLC0415
        from riskstream.core import Unsupported  # noqa: PLC0415
        from riskstream.offline.backtest import BacktestInputs, run_backtest  # noqa: PLC0415

        if events == "handbook":
            backtest_handbook(self, **handbook)
            return
        if labels is None:
            raise self.UsageError("missing option '--labels'")
        check_token_secret("backtest")
        if top_k < 1:
            raise self.UsageError("--top-k must be at least 1")
        inputs = BacktestInputs(
            events=Path(events),
            labels=Path(labels),
            candidate=Path(rules) if rules else None,
            current=Path(current) if current else None,
            report_dir=Path(report_dir),
            top_k=top_k,
            model=Path(model) if model else None,
        )
        try:
            result = run_backtest(inputs, policy_from(get_settings()), wide_console())
        except (OSError, RuleError, Unsupported) as error:
            raise SystemExit(f"backtest: {error}") from None
        console = wide_console()
        for line in result.bad_events[:20]:
            console.print(f"skipped {events}:{line}", markup=False, soft_wrap=True)
        for line in result.bad_labels[:20]:
            console.print(f"skipped {labels}:{line}", markup=False, soft_wrap=True)
        for path in result.files:
            console.print(f"wrote {path}", markup=False)
