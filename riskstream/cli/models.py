"""``riskstream model ...``: train a model from a file of events, print a model's card
(``cli/model_train.py``); deploy, retire and list the models on ``risk.models``
(``cli/model_deploy.py``)."""

from __future__ import annotations

import faust
from faust.cli import AppCommand, argument, option

from riskstream.cli.command import USAGE_EXIT, Command, fail
from riskstream.cli.offline import check_token_secret, wide_console
from riskstream.streams.settings import get_settings

MODEL_USAGE = (
    "use: train EVENTS --cutoff ISO [...] | card FILE | deploy FILE --mode active|shadow "
    "[--operator NAME --reason TEXT] | retire MODEL_ID | list"
)
DEPLOY_ACTIONS = ("deploy", "retire", "list")


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
        option("--review-budget", type=float, default=None,
               help="train: share of legitimate transactions the model may send to review"
               " or above (default RISKSTREAM_SCORE_REVIEW_BUDGET, 0.015)."),
        option("--challenge-budget", type=float, default=None,
               help="train: share it may challenge or reject (RISKSTREAM_SCORE_CHALLENGE_BUDGET,"
               " 0.003)."),
        option("--reject-budget", type=float, default=None,
               help="train: share it may reject (RISKSTREAM_SCORE_REJECT_BUDGET, 0.001)."),
        option("--mode", type=str, default=None, help="deploy: active or shadow."),
        option("--operator", type=str, default=None,
               help="deploy, retire: who acts (the audit trail's actor)."),
        option("--reason", type=str, default=None,
               help="deploy, retire: why (the audit trail's reason)."),
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
        review_budget: float | None,
        challenge_budget: float | None,
        reject_budget: float | None,
        mode: str | None,
        operator: str | None,
        reason: str | None,
    ) -> None:
        """Learned models: train EVENTS --cutoff ISO [--train-from ISO] [--out FILE]
        [--labels-from feedback|labels --labels FILE] [--review-budget SHARE
        --challenge-budget SHARE --reject-budget SHARE] | card FILE | deploy FILE --mode
        active|shadow [--operator NAME --reason TEXT] | retire MODEL_ID | list. Each
        deployment is an audit line first; deploying a model active retires the one
        active before it."""
        path = self.ctx.command_path
        if action in DEPLOY_ACTIONS:
            # LightGBM loads only when a model command runs.
            from riskstream.cli import model_deploy  # noqa: PLC0415

            options = {"mode": mode, "operator": operator, "reason": reason}
            try:
                model_deploy.run_action(get_settings(), action, list(targets), options, self.say)
            except model_deploy.ModelCommandError as error:
                fail(path, str(error), USAGE_EXIT)
            except ValueError as error:
                raise self.UsageError(str(error)) from None
            return
        from riskstream.agents.scoring import policy_from  # noqa: PLC0415
        from riskstream.cli import model_train  # noqa: PLC0415

        try:
            if action == "train" and len(targets) == 1 and cutoff:
                check_token_secret(path)
                settings = get_settings()
                budgets = model_train.friction_budgets(
                    settings, review_budget, challenge_budget, reject_budget
                )
                model_train.train_command(
                    targets[0], cutoff, train_from, out, labels_from, labels, model_id,
                    policy_from(settings), wide_console(), budgets=budgets,
                )  # fmt: skip
            elif action == "card" and len(targets) == 1:
                wide_console().print(model_train.card_table(model_train.load_artefact(targets[0])))
            else:
                raise self.UsageError(MODEL_USAGE)
        except model_train.ModelCommandError as error:
            fail(path, str(error), USAGE_EXIT)
        except OSError as error:
            fail(path, str(error))
