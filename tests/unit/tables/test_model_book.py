"""The replica of ``risk.models``: bad records refused with their reason, and which model
is active, shadow or retired after each record."""

from __future__ import annotations

import orjson
import pytest

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.streams.bounds import MAX_MODEL_RECORD_BYTES, MAX_SHADOW_MODELS
from riskstream.tables.model_book import ModelBook
from tests.model_artefacts import FEATURES, artefact, record

KNOWN = (*FEATURES, "log_amount")


def book() -> ModelBook[ModelArtefact]:
    return ModelBook(ModelArtefact.from_bytes, KNOWN)


def apply(models: ModelBook[ModelArtefact], model: ModelArtefact, mode: str, offset: int) -> None:
    refusal = models.apply(model.model_id.encode(), record(model, mode), offset)  # type: ignore[arg-type]
    assert refusal is None, refusal


def states(models: ModelBook[ModelArtefact]) -> dict[str, str]:
    return {entry.model_id: models.state(entry) for entry in models.entries()}


def test_a_model_is_active_then_shadow_then_retired() -> None:
    models, m1 = book(), artefact("m1")
    apply(models, m1, "active", 0)
    assert models.active is not None and models.active.artefact.version == m1.version
    apply(models, m1, "shadow", 1)
    assert models.active is None and [s.model_id for s in models.shadows] == ["m1"]
    apply(models, m1, "retired", 2)
    assert models.active is None and models.shadows == () and states(models) == {"m1": "retired"}


def test_the_newest_record_marked_active_wins() -> None:
    models = book()
    apply(models, artefact("m1"), "active", 0)
    apply(models, artefact("m2", seed=8), "active", 1)
    assert models.active is not None and models.active.model_id == "m2"
    assert states(models) == {"m1": "replaced", "m2": "active"}
    # Retiring the newer one leaves the older record marked active the newest: it wins
    # again (the deploy command retires the one it replaces, so this is a forged topic).
    apply(models, artefact("m2", seed=8), "retired", 2)
    assert models.active is not None and models.active.model_id == "m1"


def test_any_number_of_shadows_beside_one_active_up_to_the_bound() -> None:
    models = book()
    apply(models, artefact("live"), "active", 0)
    for number in range(MAX_SHADOW_MODELS):
        apply(models, artefact(f"s{number}"), "shadow", number + 1)
    assert [s.model_id for s in models.shadows] == [f"s{n}" for n in range(MAX_SHADOW_MODELS)]
    refusal = models.apply(b"one-more", record(artefact("one-more"), "shadow"), 99)
    assert refusal is not None and "shadow models run already" in refusal.error
    # A shadow already there may be sent again (a new version, say).
    apply(models, artefact("s0", seed=9), "shadow", 100)


def bad_records() -> list[tuple[str, bytes | None, bytes | None, str]]:
    good = artefact("m1")
    body = orjson.loads(record(good, "active"))
    other_features = artefact("m1", features=("amount", "velocity_made_up"))
    edited = {
        **body,
        "artefact": {**body["artefact"], "booster": body["artefact"]["booster"][:-40]},
    }
    return [
        ("no key", None, record(good, "active"), "needs the model id as its key"),
        ("tombstone", b"m1", None, "a tombstone"),
        ("not JSON", b"m1", b"{not json", "not JSON"),
        ("bad mode", b"m1", orjson.dumps({**body, "mode": "boss"}), "mode"),
        ("extra field", b"m1", orjson.dumps({**body, "owner": "x"}), "owner"),
        ("key differs", b"m2", record(good, "active"), "differs from the model id"),
        ("artefact edited", b"m1", orjson.dumps(edited), "is not its content's"),
        ("artefact of another id", b"m9",
         orjson.dumps({**body, "model_id": "m9"}), "its artefact is model 'm1'"),
        ("unknown features", b"m1", record(other_features, "active"),
         "features the scorer does not compute: velocity_made_up"),
        ("oversized", b"m1", b" " * (MAX_MODEL_RECORD_BYTES + 1), "the most is"),
    ]  # fmt: skip


@pytest.mark.parametrize(("key", "value", "why"), [c[1:] for c in bad_records()],
                         ids=[c[0] for c in bad_records()])  # fmt: skip
def test_a_bad_record_is_refused_with_its_reason_and_the_model_stays(
    key: bytes | None, value: bytes | None, why: str
) -> None:
    models, m1 = book(), artefact("m1")
    apply(models, m1, "active", 0)
    refusal = models.apply(key, value, 5)
    assert refusal is not None and why in refusal.error, refusal
    assert models.refused == 1 and list(models.refusals) == [refusal]
    assert refusal.offset == 5
    assert models.active is not None and models.active.artefact.version == m1.version


def test_a_record_the_artefact_reader_chokes_on_is_refused_not_raised() -> None:
    def choke(raw: bytes) -> ModelArtefact:
        raise RuntimeError("the parser fell over")

    models = ModelBook(choke, KNOWN)
    models.apply_record(type("R", (), {"key": b"m1", "value": record(artefact(), "active"),
                                      "offset": 3})())  # fmt: skip
    assert models.refused == 1 and "cannot be read: RuntimeError" in models.refusals[0].error


def test_summary_names_mode_version_and_extra_fields() -> None:
    models = book()
    apply(models, artefact("m1"), "active", 0)
    apply(models, artefact("m2", seed=8), "shadow", 1)
    rows = models.summary({"m2": {"scored": 4}})
    assert [(r["model_id"], r["mode"], r.get("scored")) for r in rows] == [
        ("m1", "active", None), ("m2", "shadow", 4),
    ]  # fmt: skip
    assert rows[0]["version"] == artefact("m1").version
