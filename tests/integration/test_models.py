"""Learned models on the real broker: deployed active through ``risk.models`` they change
a running worker's answers; a second one replaces the first on the running worker; a
shadow is scored beside, counted on ``/models/``, while the active one decides."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.cli import model_deploy
from riskstream.cli.audit import read_audit
from riskstream.streams.audit_chain import verify
from riskstream.streams.codec import loads
from riskstream.streams.topics import create_topics
from tests.integration.conftest import Sandbox, Worker
from tests.integration.helpers import send_raw
from tests.integration.test_scoring import post, scored, txn
from tests.model_artefacts import artefact

pytestmark = pytest.mark.integration


def deploy(sandbox: Sandbox, tmp_path: Path, model: ModelArtefact, mode: str) -> list[str]:
    path = tmp_path / f"{model.model_id}.json"
    path.write_bytes(model.to_bytes())
    return model_deploy.deploy(sandbox.settings, path, mode, "it-modeller", f"test {mode}")


def until(worker: Worker, check: Callable[[], Any], what: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} not within {timeout_s} s:\n{worker.log_tail()}")


def models(worker: Worker) -> dict[str, Any]:
    response = worker.call("GET", "/models/", role="analyst")
    assert response.status_code == 200, response.text
    return dict(response.json())


def answered_by(worker: Worker, version: str | None) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        answer = scored(worker, txn("acct-model", "9500.00"))
        return answer if answer.get("model_version") == version else None

    return check


def test_models_swapped_and_shadowed_on_a_running_worker(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    settings = sandbox.settings
    worker.start()
    before = scored(worker, txn("acct-model", "9500.00"))
    assert (before["score"], before["decision"], before["model_version"]) == (0, "accept", None)

    first = artefact("it-first", probability=0.7)
    assert deploy(sandbox, tmp_path, first, "active") == [f"it-first {first.version} active"]
    answer = until(worker, answered_by(worker, first.version), "the first model's answers")
    assert (answer["score"], answer["decision"]) == (70, "challenge")
    assert answer["reasons"][0]["code"] == "MODEL" and "it-first" in answer["reasons"][0]["detail"]

    second = artefact("it-second", probability=0.9)
    assert deploy(sandbox, tmp_path, second, "active") == [
        f"it-second {second.version} active", f"it-first {first.version} retired",
    ]  # fmt: skip
    answer = until(worker, answered_by(worker, second.version), "the second model's answers")
    assert (answer["score"], answer["decision"]) == (90, "reject")

    shadow = artefact("it-shadow", probability=0.1)
    deploy(sandbox, tmp_path, shadow, "shadow")
    until(worker, lambda: any(m["model_id"] == "it-shadow" for m in models(worker)["models"]),
          "the shadow on /models/")  # fmt: skip
    for _ in range(5):
        answer = scored(worker, txn("acct-model", "9500.00"))
        assert (answer["score"], answer["model_version"]) == (90, second.version)
    body = models(worker)
    assert body["active"] == "it-second" and body["refused"] == []
    rows = {row["model_id"]: row for row in body["models"]}
    assert {name: row["mode"] for name, row in rows.items()} == {
        "it-first": "retired", "it-second": "active", "it-shadow": "shadow",
    }  # fmt: skip
    assert rows["it-shadow"]["version"] == shadow.version
    assert rows["it-shadow"]["card"]["rows"] == 400
    agreement = rows["it-shadow"]["agreement"]
    assert rows["it-shadow"]["scored"] >= 5 and agreement["compared"] >= 5
    assert agreement["agreed"] == 0 and agreement["more_lenient"] == agreement["compared"]
    assert set(agreement["pairs"]) == {"accept->reject"}
    stats = worker.call("GET", "/stats/", role="analyst").json()["models"]
    assert stats["active"]["model_id"] == "it-second" and stats["active"]["scored"] >= 6
    assert stats["shadows"][0]["model_id"] == "it-shadow"

    # A bad record is refused with its reason; the model in force stays.
    send_raw(settings, settings.topics.models, [(b"it-second", b'{"model_id": "it-second"}')])
    refused = until(worker, lambda: models(worker)["refused"], "the refusal on /models/")
    assert "not a model record" in refused[0]["error"]
    assert scored(worker, txn("acct-model", "9500.00"))["model_version"] == second.version

    # The command line sees what the workers see; a retired shadow is no longer scored.
    listed: list[str] = []
    model_deploy.listing(settings, listed.append)
    assert [line.split()[:3] for line in listed[:3]] == [
        ["it-second", "active", second.version], ["it-first", "retired", first.version],
        ["it-shadow", "shadow", shadow.version],
    ]  # fmt: skip
    assert listed[3].startswith("refused at offset") and "not a model record" in listed[3]
    assert model_deploy.retire(settings, "it-shadow", "it-modeller", "done") == (
        f"it-shadow {shadow.version} retired"
    )
    until(worker, lambda: models(worker)["models"][-1]["mode"] != "shadow", "the retirement")
    assert worker.call("GET", "/stats/", role="analyst").json()["models"]["shadows"] == []
    with pytest.raises(model_deploy.ModelCommandError, match="retired already"):
        model_deploy.retire(settings, "it-shadow", None, None)

    # Each change was an audit line first, in an intact chain.
    lines = [loads(value) for _, value in read_audit(settings) if value is not None]
    deployed = [(line["model"]["model_id"], line["model"]["mode"], line["actor"])
                for line in lines if line["action"] == "model-deploy"]  # fmt: skip
    assert deployed == [
        ("it-first", "active", "it-modeller"), ("it-second", "active", "it-modeller"),
        ("it-first", "retired", "it-modeller"), ("it-shadow", "shadow", "it-modeller"),
        ("it-shadow", "retired", "it-modeller"),
    ]  # fmt: skip
    assert verify(read_audit(settings)).broken is None


def test_a_starting_worker_answers_with_the_model_once_it_has_read_the_topic(
    sandbox: Sandbox, worker: Worker, tmp_path: Path
) -> None:
    create_topics(sandbox.settings)
    model = artefact("it-early", probability=0.65)
    deploy(sandbox, tmp_path, model, "active")
    worker.spawn()
    deadline = time.monotonic() + 90
    answer: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            answer = post(worker, "/score/", txn("acct-early")).json()
        except httpx.HTTPError:  # the web server is not up yet
            time.sleep(0.2)
            continue
        if answer["score"] != -1:
            break
        assert answer["reasons"][0]["code"] == "RECOVERING"
        time.sleep(0.1)
    # Its first real answer already has the model: never the rules alone in between.
    assert (answer["score"], answer["model_version"]) == (65, model.version), answer
