"""``riskstream`` speaks as riskstream: its version, its help, and one line per mistake.

Every command line runs as a subprocess (all of them at once: each takes a second or
two to import), with the broker pointed at a closed local port: no broker is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import metadata, version
from pathlib import Path

import pytest

from riskstream.cli.program import HIDDEN_COMMANDS

CLOSED = "127.0.0.1:1"  # nothing listens on port 1
TIMEOUT_S = 120


@dataclass(frozen=True)
class Done:
    status: int
    out: str
    err: str


def environment(data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in {"NO_COLOR", "FORCE_COLOR"}}  # fmt: skip
    return {**env, "KAFKA_BOOTSTRAP": CLOSED, "RISKSTREAM_KAFKA_BOOTSTRAP": CLOSED,
            "RISKSTREAM_DATA_DIR": str(data_dir),
            "RISKSTREAM_TOKEN_SECRET": "cli-tests-token-secret"}  # fmt: skip


# Found by click while parsing, and raised by a command as it runs.
USAGE_ERRORS = [
    ("bogus",),
    ("replay",),
    ("topics", "bogus"),
    ("acls", "bogus"),
    ("profiles", "bogus"),
    ("profiles", "build", "--out", "x.jsonl"),
    ("backtest", "e.jsonl", "--labels", "l.jsonl", "--top-k", "0"),
    ("backtest", "events.jsonl"),
    ("backtest", "handbook", "--days", "10"),
    ("model", "bogus"),
    ("model", "train", "events.jsonl"),
    ("scorer", "--port", "0"),
]
NEED_A_BROKER = [
    ("worker",),
    ("scorer",),
    ("topics", "create"),
    ("rules", "list"),
    ("penalties", "list"),
    ("model", "list"),
    ("acls", "apply"),
    ("simulate", "--kafka"),
    ("profiles", "build", "--from-topics", "--publish"),
]
# Refused before any broker is asked: one line, exit 2.
REFUSED = [("model", "deploy", "missing.json", "--mode", "active")]
OTHERS = [("--version",), ("--help",), ("clean-versions", "--help")]
# A model command's bad input: one line naming it, exit 2.
MODEL_MISTAKES = {
    ("model", "train", "missing.jsonl", "--cutoff", "2026-11-02T00:00Z"): "no events file",
    ("model", "train", "missing.jsonl", "--cutoff", "yesterday"): "not an ISO 8601 instant",
    ("model", "train", "missing.jsonl", "--cutoff", "2026-11-02T00:00"): "needs a time zone",
    ("model", "card", "missing.json"): "no model file",
    ("model", "train", "missing.jsonl", "--cutoff", "2026-11-02T00:00Z",
     "--challenge-budget", "0.02"): "budgets shrink as the decision grows",
    ("model", "train", "missing.jsonl", "--cutoff", "2026-11-02T00:00Z",
     "--reject-budget", "0"): "--reject-budget: Input should be greater than 0",
}  # fmt: skip


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Done]:
    folder = tmp_path_factory.mktemp("cli")
    env = environment(folder / "var")
    running = {
        args: subprocess.Popen(
            [sys.executable, "-m", "riskstream", *args],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in USAGE_ERRORS + NEED_A_BROKER + REFUSED + OTHERS + list(MODEL_MISTAKES)
    }
    done = {}
    for args, process in running.items():
        try:
            out, err = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        done[args] = Done(process.returncode, out, err)
    return done


def test_version_is_riskstreams(ran: dict[tuple[str, ...], Done]) -> None:
    done = ran[("--version",)]
    assert done.status == 0
    assert done.out.strip() == f"riskstream {version('riskstream')}"


def commands_listed(help_text: str) -> set[str]:
    section = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ")
            and not line.startswith("   ")}  # fmt: skip


def test_help_shows_riskstream_and_its_commands(ran: dict[tuple[str, ...], Done]) -> None:
    done = ran[("--help",)]
    assert done.status == 0
    assert " ".join(done.out.split()).find(metadata("riskstream")["Summary"]) > 0
    assert "faust-streaming.github.io" not in done.out
    assert commands_listed(done.out) == {
        "acls", "audit", "backtest", "demo", "model", "penalties", "profiles", "replay",
        "rules", "scorer", "simulate", "token", "topics", "worker",
    }  # fmt: skip
    assert "--app" not in done.out and "--json" not in done.out


def test_hidden_commands_still_run(ran: dict[tuple[str, ...], Done]) -> None:
    assert "clean_versions" in HIDDEN_COMMANDS
    done = ran[("clean-versions", "--help")]
    assert done.status == 0 and "Usage: riskstream clean-versions" in done.out


def one_line(done: Done) -> str:
    assert "Traceback" not in done.err, done.err
    lines = done.err.splitlines()
    assert len(lines) == 1, done.err
    return lines[0]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_a_usage_error_is_one_line(ran: dict[tuple[str, ...], Done], args: tuple[str, ...]) -> None:
    done = ran[args]
    line = one_line(done)
    assert done.status == 2
    assert line.startswith("riskstream") and "--help`" in line


@pytest.mark.parametrize("args", list(MODEL_MISTAKES), ids=" ".join)
def test_a_model_command_mistake_is_one_line(
    ran: dict[tuple[str, ...], Done], args: tuple[str, ...]
) -> None:
    done = ran[args]
    line = one_line(done)
    assert done.status == 2
    assert line.startswith("riskstream model: ") and MODEL_MISTAKES[args] in line


@pytest.mark.parametrize("args", NEED_A_BROKER, ids=" ".join)
def test_no_broker_is_one_line_with_a_hint(
    ran: dict[tuple[str, ...], Done], args: tuple[str, ...]
) -> None:
    done = ran[args]
    line = one_line(done)
    assert done.status == 1
    assert line.startswith(f"riskstream {args[0]}: no Kafka broker at {CLOSED}")
    assert "make broker-start" in line


def test_a_refused_model_deployment_is_one_line_with_status_2(
    ran: dict[tuple[str, ...], Done],
) -> None:
    done = ran[REFUSED[0]]
    line = one_line(done)
    assert done.status == 2
    assert line == "riskstream model: missing.json: No such file or directory"


def run_riskstream(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[Done, str]:
    """``riskstream ARGS`` run to its end: what it did, and its output as one line."""
    done = subprocess.run(
        [sys.executable, "-m", "riskstream", *args], cwd=cwd, env=env,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
    )  # fmt: skip
    result = Done(done.returncode, done.stdout, done.stderr)
    return result, one_line(result)


@pytest.mark.parametrize(
    ("secret", "said"),
    [(None, "RISKSTREAM_TOKEN_SECRET is not set"), ("hunter2-short", "too short")],
    ids=["none", "short"],
)
def test_a_worker_without_a_usable_token_secret_refuses_in_one_line(
    tmp_path: Path, secret: str | None, said: str
) -> None:
    env = environment(tmp_path / "var")
    del env["RISKSTREAM_TOKEN_SECRET"]
    if secret is not None:
        env["RISKSTREAM_TOKEN_SECRET"] = secret
    done, line = run_riskstream(["worker"], tmp_path, env)
    assert done.status == 1
    assert line.startswith("riskstream worker: ") and said in line
    assert "hunter2" not in done.err + done.out  # the secret is never shown


@pytest.mark.parametrize("command", ["replay", "backtest"])
def test_a_replay_needs_the_token_secret_as_a_worker_does(tmp_path: Path, command: str) -> None:
    # It tokenises as live does, so that its ids are live's: the same secret or none.
    (tmp_path / "events.jsonl").write_bytes(b"")
    args = [command, "events.jsonl"]
    if command == "backtest":
        args += ["--labels", "events.jsonl"]
    env = environment(tmp_path / "var")
    del env["RISKSTREAM_TOKEN_SECRET"]
    env.pop("RISKSTREAM_DEVELOPMENT", None)
    done, line = run_riskstream(args, tmp_path, env)
    assert done.status == 1
    assert line.startswith(f"{command}: ") and "RISKSTREAM_TOKEN_SECRET is not set" in line


@pytest.mark.parametrize(
    ("kafka", "said"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "worker"}, "needs both"),
        ({"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}, "KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CA_FILE": "/nonexistent/ca.pem"},
            "KAFKA_SSL_CA_FILE: cannot read /nonexistent/ca.pem",
        ),
    ],
    ids=["username-without-password", "mechanism-without-sasl", "missing-ca"],
)
def test_a_worker_with_unusable_kafka_security_refuses_in_one_line(
    tmp_path: Path, kafka: dict[str, str], said: str
) -> None:
    env = {**environment(tmp_path / "var"), **{f"RISKSTREAM_{k}": v for k, v in kafka.items()}}
    done, line = run_riskstream(["worker"], tmp_path, env)
    assert done.status == 1
    # Refused before the broker is asked: the bootstrap address is a closed port.
    assert line.startswith("riskstream: ") and said in line


def test_a_bad_setting_is_one_line_naming_it_without_its_value(tmp_path: Path) -> None:
    env = {
        **environment(tmp_path / "var"),
        "RISKSTREAM_WATERMARK_DELAY_S": "soon-ish",
        "RISKSTREAM_MAX_HELD_EVENTS": "-5",
    }
    done, line = run_riskstream(["topics", "list"], tmp_path, env)
    assert done.status == 2
    assert line.startswith("riskstream: bad setting RISKSTREAM_WATERMARK_DELAY_S: ")
    assert "RISKSTREAM_MAX_HELD_EVENTS: " in line
    assert "soon-ish" not in line and "Traceback" not in done.err


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    yield leader, follower
    os.close(leader)
    os.close(follower)


def test_logs_are_plain_when_stderr_is_no_terminal(
    tmp_path: Path, terminal: tuple[int, int]
) -> None:
    """stdout on a terminal, stderr to a file: mode used to colour the file's lines."""
    _, follower = terminal
    done = subprocess.run(
        [sys.executable, "-m", "riskstream", "--loglevel", "info", "topics", "list"],
        env=environment(tmp_path), stdin=subprocess.DEVNULL, stdout=follower,
        stderr=subprocess.PIPE, timeout=TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0
    assert b"[INFO]" in done.stderr
    assert b"\x1b[" not in done.stderr
