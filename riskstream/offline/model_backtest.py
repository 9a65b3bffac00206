"""The backtest's runs with a learned model: "rules" and "rules+model" side by side, from
one offline scoring pass (``offline/scoring_pass.py``).

Both runs judge the same evidence: each transaction is decided twice by the live
``score``, once without the model and once with it, so the two columns differ by the
model alone. The alerts (signals) are the replay's and the same in both; what a model
changes is the decisions and the scores, hence the scenario recall "by decision".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.agents.rule_center import RuleCenter
from riskstream.agents.scoring import DecisionPolicy, score
from riskstream.offline.evaluation import Collector, Evaluation, evaluate
from riskstream.offline.jsonl import BadLine
from riskstream.offline.labels import GroundTruth
from riskstream.offline.scoring_pass import OfflineModel, ScoringPass

RULES, WITH_MODEL = "rules", "rules+model"


def load_model(path: Path) -> ModelArtefact:
    """The artefact file, checked as a worker checks one; ``OSError`` with the reason."""
    try:
        return ModelArtefact.from_bytes(path.read_bytes())
    except ValueError as error:
        raise OSError(f"{path}: {error}") from None


def model_runs(
    events: Path,
    center: RuleCenter,
    model: ModelArtefact,
    truth: GroundTruth,
    policy: DecisionPolicy | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Evaluation], int, list[BadLine]]:
    """The "rules" and "rules+model" evaluations, events replayed, invalid lines."""
    scoring = ScoringPass(center, policy, model=OfflineModel(model))
    bad = scoring.load(events)
    rules_only, with_model = Collector(truth), Collector(truth)
    score_rules = list(center.score_rules.values())
    for scored in scoring.run(progress=progress):
        event_id = scored.transaction.event_id
        plain = score(scored.evidence, score_rules, scoring.policy, center.version)
        rules_only.add_decision(event_id, plain.score, plain.decision)
        with_model.add_decision(event_id, scored.decision.score, scored.decision.decision)
    modes: dict[str, str] = {
        rule_id: rule.doc.mode for rule_id, rule in center.ruleset.rules.items()
    }
    runs = {}
    for name, collector in ((RULES, rules_only), (WITH_MODEL, with_model)):
        collector.add_alerts(scoring.signals, scoring.shadow)
        runs[name] = evaluate(collector, modes)
    return runs, len(scoring), bad
