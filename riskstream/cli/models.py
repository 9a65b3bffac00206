"""``riskstream model ...``: train a model from a file of events, print a model's card."""

from __future__ import annotations

import faust
from faust.cli import AppCommand, argument, option

from riskstream.cli.command import USAGE_EXIT, Command, fail
from riskstream.cli.offline import check_token_secret, wide_console
from riskstream.streams.settings import get_settings

MODEL_USAGE = "use: train EVENTS --cutoff ISO [...] | card FILE"


def register_models(app: faust.App) -> None:
    @app.command(
        argument("action", type=str),
        argument("targets", nargs=-1),
        option("--cutoff", type=str, default=None,
               help="train: rows before it, labels dated at or before it (ISO, with zone)."),
        option("--train-from", type=str, default=None, help="train: rows from it (ISO)."),
        option("--out", type=str, default="model.json", help="train: the artefact file."),
        option("--labels-from", type=str, default="feedback",
               help="train: feedback (verdicts in the events) or labels (--labels FILE)."),
        option("--labels", type=str, default=None, help="train: a ground-truth file."),
        option("--model-id", type=str, default="fraud-gbm", help="train: the model's id."),
        base=Command,
    )  # fmt: skip
    async def model(
        self: AppCommand,
        action: str,
        targets: tuple[str, ...],
        cutoff: str | None,
        train_from: str | None,
        out: str,
        labels_from: str,
        labels: str | None,
        model_id: str,
    ) -> None:
        """Learned models: train EVENTS --cutoff ISO [--train-from ISO] [--out FILE]
        [--labels-from feedback|labels --labels FILE] | card FILE."""
        # LightGBM and scikit-learn load only when a model command runs.
        from riskstream.agents.scoring import policy_from  # noqa: PLC0415
        from riskstream.cli import model_train  # noqa: PLC0415

        path = self.ctx.command_path
        try:
            if action == "train" and len(targets) == 1 and cutoff:
                check_token_secret(path)
                model_train.train_command(
                    targets[0], cutoff, train_from, out, labels_from, labels, model_id,
                    policy_from(get_settings()), wide_console(),
                )  # fmt: skip
            elif action == "card" and len(targets) == 1:
                wide_console().print(model_train.card_table(model_train.load_artefact(targets[0])))
            else:
                raise self.UsageError(MODEL_USAGE)
        except model_train.ModelCommandError as error:
            fail(path, str(error), USAGE_EXIT)
        except OSError as error:
            fail(path, str(error))
