"""``riskstream model``: what it refuses before touching the broker, and its audit line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from riskstream.cli import model_deploy
from riskstream.cli.model_deploy import ModelCommandError, actor, read_artefact, run_action
from riskstream.streams.bounds import MAX_MODEL_RECORD_BYTES
from riskstream.streams.settings import Settings
from tests.model_artefacts import artefact

CLOSED = Settings(kafka_bootstrap="127.0.0.1:1")


def test_an_artefact_file_is_read_and_checked(tmp_path: Path) -> None:
    model = artefact("cli-m1")
    path = tmp_path / "m.json"
    path.write_bytes(model.to_bytes())
    assert read_artefact(path).version == model.version


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "No such file or directory"),
        (b"{nope", "artefact is not JSON"),
        (b'{"model_id": "x"}', "artefact: version"),
        (b" " * (MAX_MODEL_RECORD_BYTES + 1), "bytes, the most is"),
    ],
    ids=["missing", "not-json", "not-an-artefact", "oversized"],
)
def test_a_bad_file_is_refused_with_its_reason(
    tmp_path: Path, content: bytes | None, why: str
) -> None:
    path = tmp_path / "m.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelCommandError, match=why) as refused:
        read_artefact(path)
    assert str(refused.value).startswith(str(path))


def test_an_edited_artefact_is_refused(tmp_path: Path) -> None:
    body = orjson.loads(artefact("cli-m1").to_bytes())
    body["card"]["notes"] = "edited after training"
    path = tmp_path / "m.json"
    path.write_bytes(orjson.dumps(body))
    with pytest.raises(ModelCommandError, match="is not its content's"):
        read_artefact(path)


@pytest.mark.parametrize(
    ("action", "targets", "options"),
    [
        ("deploy", [], {"mode": "active"}),
        ("deploy", ["a.json", "b.json"], {"mode": "active"}),
        ("retire", [], {}),
        ("list", ["extra"], {}),
        ("promote", ["m1"], {}),
    ],
)
def test_a_wrong_call_is_a_usage_error(
    action: str, targets: list[str], options: dict[str, str | None]
) -> None:
    with pytest.raises(ValueError, match="use: deploy FILE"):
        run_action(CLOSED, action, targets, options, print)


@pytest.mark.parametrize("mode", [None, "retired", "boss"])
def test_deploy_takes_active_or_shadow_only(tmp_path: Path, mode: str | None) -> None:
    with pytest.raises(ValueError, match="--mode takes active or shadow"):
        run_action(CLOSED, "deploy", [str(tmp_path / "m.json")], {"mode": mode}, print)


def test_the_actor_is_the_operator_named_else_the_local_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert actor(" alice ") == "alice"
    monkeypatch.setattr(model_deploy.getpass, "getuser", lambda: "ops")
    monkeypatch.setattr(model_deploy.socket, "gethostname", lambda: "bastion")
    assert actor(None) == "ops@bastion"
