"""The learned model in the decision: ``points = max(model_points(p), decide_points)``
(``round(100 p)`` for a model without thresholds), its MODEL reason first, its version on
the decision; shadows counted, never deciding; entries in force act as before."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.agents.model_serving import ServedModels
from riskstream.agents.model_thresholds import DecisionThresholds, ThresholdChoice
from riskstream.agents.score_rules import compile_score_rule
from riskstream.agents.scoring import Evidence, ModelOpinion, gather, score
from riskstream.offline.scoring_pass import OfflineModel
from riskstream.streams.model_record import ModelRecordError
from riskstream.streams.outputs import Decision
from riskstream.streams.scoring_model import Penalty, ScoreRuleDoc
from riskstream.tables.books import PenaltyBook, ProfileBook
from riskstream.tables.model_book import ModelBook
from tests.model_artefacts import FEATURES, artefact, record
from tests.unit.agents.test_scoring import NOW, POLICY, penalty, signal, transaction


def row_of(evidence: Evidence) -> list[float]:
    """The test models' three features (the live scorer's come from feature_row)."""
    noisy_or = 1.0
    for signals in evidence.signals.values():
        for item in signals:
            noisy_or *= 1 - item.severity / 100
    txn = evidence.transaction
    return [float(txn.amount), 100 * (1 - noisy_or), float(txn.occurred_at.hour)]


def served(*deployed: tuple[ModelArtefact, str]) -> ServedModels:
    book: ModelBook[ModelArtefact] = ModelBook(ModelArtefact.from_bytes, FEATURES)
    for offset, (model, mode) in enumerate(deployed):
        assert book.apply(model.model_id.encode(), record(model, mode), offset) is None  # type: ignore[arg-type]
    return ServedModels(book, FEATURES, row_of)


def decide(
    models: ServedModels | None,
    signals: list[dict[str, Any]] = (),  # type: ignore[assignment]
    penalties: list[Penalty] = (),  # type: ignore[assignment]
    rules: list[ScoreRuleDoc] = (),  # type: ignore[assignment]
    amount: str = "100",
) -> Decision:
    profiles, book = ProfileBook(), PenaltyBook()
    for body in signals:
        profiles.apply_signal(body)
    for entry in penalties:
        book.put(entry)
    evidence = gather(transaction(amount=amount), profiles, book, NOW, Decimal(0))
    compiled = [compile_score_rule(doc) for doc in rules]
    return score(evidence, compiled, POLICY, "v", model=models)


def codes(decision: Decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


def test_without_a_model_the_rules_decide_as_before() -> None:
    for models in (None, served()):
        decision = decide(
            models, [signal("account", "acc", 50, "a"), signal("ip", "10.0.0.1", 50, "b")]
        )
        assert (decision.score, decision.decision, decision.model_version) == (
            75,
            "challenge",
            None,
        )
        assert codes(decision) == ["SIGNAL", "SIGNAL"]


def test_the_model_alone_scores_its_probability() -> None:
    model = artefact("m1", probability=0.7)
    decision = decide(served((model, "active")))
    assert (decision.score, decision.decision) == (70, "challenge")
    assert decision.model_version == model.version
    assert codes(decision) == ["MODEL"] and "probability 0.700" in decision.reasons[0].detail


def test_a_deciding_signal_is_a_floor_the_model_cannot_lower() -> None:
    models = served((artefact("m1", probability=0.1), "active"))
    decision = decide(models, [signal("account", "acc", 85, "a")])
    assert (decision.score, decision.decision) == (85, "reject")
    assert codes(decision) == ["MODEL", "SIGNAL"]
    # Signals combine among themselves (noisy-OR) before the model's maximum.
    two = decide(models, [signal("account", "acc", 50, "a"), signal("device", "dev", 50, "b")])
    assert two.score == 75


def test_the_model_may_raise_what_the_signals_say() -> None:
    models = served((artefact("m1", probability=0.93), "active"))
    decision = decide(models, [signal("account", "acc", 30, "a")])
    assert (decision.score, decision.decision) == (93, "reject")
    # Without the model the same evidence is a 30: an accept.
    assert decide(None, [signal("account", "acc", 30, "a")]).score == 30


def test_scoring_rules_count_among_the_deciding_evidence() -> None:
    rule = ScoreRuleDoc.model_validate({
        "kind": "score", "id": "big", "version": 1, "description": "big amount",
        "code": "BIG_AMOUNT", "when": "event.amount > 50", "points": 65,
    })  # fmt: skip
    decision = decide(served((artefact("m1", probability=0.2), "active")), rules=[rule])
    assert (decision.score, codes(decision)) == (65, ["MODEL", "BIG_AMOUNT"])


def test_step_up_and_review_floors_hold_over_a_low_probability() -> None:
    models = served((artefact("m1", probability=0.05), "active"))
    step_up = decide(models, penalties=[penalty("device", "dev", "step_up")])
    assert (step_up.score, step_up.decision) == (5, "challenge")
    assert codes(step_up) == ["MODEL", "STEP_UP_REQUIRED"]
    review = decide(models, penalties=[penalty("account", "acc", "review")])
    assert review.decision == "review" and codes(review)[-1] == "REVIEW_REQUIRED"


def test_entries_that_decide_alone_do_so_before_any_model_is_asked() -> None:
    models = served((artefact("m1", probability=0.01), "active"),
                    (artefact("s1", probability=0.99), "shadow"))  # fmt: skip
    frozen = decide(models, penalties=[penalty("account", "acc", "freeze")])
    assert (frozen.score, frozen.decision, codes(frozen)) == (100, "reject", ["ACCOUNT_FROZEN"])
    assert frozen.model_version is None
    allowed = decide(models, penalties=[penalty("account", "acc", "allow")])
    assert (allowed.score, allowed.decision) == (0, "accept")
    blocked = decide(models, penalties=[penalty("ip", "10.0.0.1", "block")])
    assert blocked.decision == "reject" and codes(blocked) == ["ENTITY_BLOCKED"]
    limited = decide(
        models, penalties=[penalty("account", "acc", "limit", per_transaction_limit=Decimal(50))]
    )
    assert limited.decision == "reject" and codes(limited) == ["LIMIT_PER_TRANSACTION"]
    assert models.stats()["active"]["scored"] == 0
    assert models.stats()["shadows"][0]["scored"] == 0


def test_a_shadow_is_scored_beside_and_never_decides() -> None:
    active, shadow = artefact("m1", probability=0.2), artefact("s1", probability=0.9)
    models = served((active, "active"), (shadow, "shadow"))
    decision = decide(models)
    assert (decision.score, decision.decision, decision.model_version) == (
        20,
        "accept",
        active.version,
    )
    assert "s1" not in " ".join(reason.detail for reason in decision.reasons)
    decide(models, [signal("account", "acc", 95, "a")])  # both reject: they agree
    stats = models.stats()
    assert stats["active"]["scored"] == 2
    (counted,) = stats["shadows"]
    assert counted["model_id"] == "s1" and counted["scored"] == 2
    assert counted["agreement"] == {
        "compared": 2, "agreed": 1, "rate": 0.5, "stricter": 1, "more_lenient": 0,
        "pairs": {"reject->accept": 1, "reject->reject": 1},
    }  # fmt: skip


def test_a_shadow_without_an_active_model_is_compared_with_the_rules() -> None:
    models = served((artefact("s1", probability=0.1), "shadow"))
    decision = decide(models, [signal("account", "acc", 70, "a")])
    assert (decision.score, decision.model_version) == (70, None)
    # The shadow's would-be score is max(10, 70): it agrees.
    assert models.stats()["shadows"][0]["agreement"]["agreed"] == 1


def test_the_model_reason_names_the_strongest_features() -> None:
    model = artefact("m1")  # trained: a large amount is fraud
    decision = decide(served((model, "active")), amount="9500")
    expected = round(100 * model.probability([9500.0, 0.0, float(NOW.hour)]))
    assert decision.score == expected and decision.score >= 60
    detail = decision.reasons[0].detail
    assert detail.startswith(f"model m1 ({model.version}): probability")
    assert "strongest: amount +" in detail


def test_a_model_with_fewer_features_reads_its_own_columns_by_name() -> None:
    narrow = artefact("narrow", features=("hour", "amount"))
    models = served((narrow, "active"))
    decision = decide(models, amount="9500")
    assert math.isclose(
        decision.score, round(100 * narrow.probability([float(NOW.hour), 9500.0])), abs_tol=0
    )


def test_an_accept_names_the_probability_but_spends_nothing_on_contributions() -> None:
    asked: list[str] = []

    class Counting(ServedModels):
        def strongest(self, opinion: ModelOpinion) -> Sequence[tuple[str, float]]:
            asked.append(opinion.model_id)
            return super().strongest(opinion)

    base = served((artefact("m1"), "active"))
    models = Counting(base.book, FEATURES, row_of)
    accepted = decide(models, amount="50")
    assert accepted.decision == "accept" and asked == []
    assert accepted.reasons[0].code == "MODEL" and "strongest" not in accepted.reasons[0].detail
    flagged = decide(models, amount="9500")
    assert flagged.decision != "accept" and asked == ["m1"]
    assert "strongest: amount" in flagged.reasons[0].detail


def test_models_put_in_force_without_a_topic_score_with_the_live_features() -> None:
    active, shadow = artefact("m1", probability=0.7), artefact("s1", probability=0.1)
    models = ServedModels.of(active, [shadow])
    decision = decide(models)
    assert (decision.score, decision.model_version) == (70, active.version)
    assert models.stats()["shadows"][0]["agreement"]["pairs"] == {"accept->challenge": 1}
    with pytest.raises(ModelRecordError, match="does not compute: made_up"):
        ServedModels.of(artefact("m2", features=("amount", "made_up")))


def test_a_model_that_fails_on_a_row_leaves_the_decision_to_the_rules() -> None:
    def broken(evidence: Evidence) -> list[float]:
        return [math.nan]  # too short a row: the artefact raises

    base = served((artefact("m1", probability=0.9), "active"), (artefact("s1"), "shadow"))
    models = ServedModels(base.book, FEATURES, broken)
    decision = decide(models, [signal("account", "acc", 50, "a")])
    assert (decision.score, decision.model_version, codes(decision)) == (50, None, ["SIGNAL"])
    stats = models.stats()
    assert stats["active"]["failed"] == 1 and stats["shadows"][0]["failed"] == 1


def budget_thresholds(review: float, challenge: float, reject: float) -> DecisionThresholds:
    def choice(probability: float) -> ThresholdChoice:
        return ThresholdChoice(budget=0.01, probability=probability, legitimate_at_or_above=1)

    return DecisionThresholds(
        legitimate_rows=1000, review=choice(review), challenge=choice(challenge),
        reject=choice(reject),
    )  # fmt: skip


KNOTS = budget_thresholds(0.01, 0.04, 0.3)


def test_a_model_with_thresholds_challenges_where_100_p_would_accept() -> None:
    plain = decide(served((artefact("m1", probability=0.05), "active")))
    assert (plain.score, plain.decision) == (5, "accept")
    mapped = decide(served((artefact("m1", probability=0.05, thresholds=KNOTS), "active")))
    # 0.05 is past the challenge threshold (0.04): 60 + 20 * 0.01 / 0.26, rounded down.
    assert (mapped.score, mapped.decision) == (60, "challenge")
    assert "probability 0.050" in mapped.reasons[0].detail
    # The deciding evidence is still a floor over the mapped points.
    floored = decide(
        served((artefact("m1", probability=0.05, thresholds=KNOTS), "active")),
        [signal("account", "acc", 85, "a")],
    )
    assert (floored.score, floored.decision) == (85, "reject")


def test_a_shadow_decides_through_its_own_thresholds() -> None:
    active = artefact("m1", probability=0.05)
    shadow = artefact("s1", probability=0.05, thresholds=KNOTS)
    models = served((active, "active"), (shadow, "shadow"))
    assert decide(models).decision == "accept"
    assert models.stats()["shadows"][0]["agreement"]["pairs"] == {"challenge->accept": 1}
    (listed,) = [item for item in models.summary() if item["model_id"] == "s1"]
    assert listed["thresholds"]["challenge"]["probability"] == 0.04


def test_the_offline_pass_scores_through_the_same_thresholds() -> None:
    model = artefact("m1", probability=0.05, thresholds=KNOTS)
    evidence = gather(transaction(), ProfileBook(), PenaltyBook(), NOW, Decimal(0))
    offline = OfflineModel(model)
    opinion, _ = offline.opinions(evidence)
    assert opinion is not None and opinion.thresholds == KNOTS
    decision = score(evidence, [], POLICY, "v", model=offline)
    assert (decision.score, decision.decision) == (60, "challenge")


def test_a_model_with_a_forest_scores_and_explains_with_both() -> None:
    model = artefact("m1", forest=True)  # booster and forest: a large amount is fraud
    assert model.has_forest
    decision = decide(served((model, "active")), amount="9500")
    row = [9500.0, 0.0, float(NOW.hour)]
    assert decision.score == round(100 * model.probability(row)) and decision.score >= 60
    assert decision.model_version == model.version
    assert "strongest: amount +" in decision.reasons[0].detail
    low = decide(served((model, "active")), amount="50")
    assert low.score < decision.score
