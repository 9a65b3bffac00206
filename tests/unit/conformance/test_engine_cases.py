"""The engine cases (``tests/conformance/engine/``) through the core's replay.

Each case is a run: rule documents (or the shipped rules), events, and what the run
gives: the signals, shadow signals and decisions, line for line, the statuses of the
events (applied, duplicate, late) and the lines refused. Here every case is replayed as
``riskstream replay`` replays a file (:class:`~riskstream.offline.native.NativeReplay`:
the core's :class:`~riskstream.core.Replay`, the lines its strict reader is unsure of
validated by the contract) and each output line must be the bytes of the case's object
as orjson writes it. ``tests/conformance/README.md`` says what a case holds. A case
marked ``pending`` is a known difference of the core: it must still fail here (strict
xfail), so that fixing it is noticed.
"""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from riskstream.agents.cep.compiler import EngineLimits
from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline.jsonl import MAX_LINE_BYTES
from riskstream.offline.native import NativeReplay
from riskstream.offline.rules import rule_center
from riskstream.streams.codec import dumps

ROOT = Path(__file__).resolve().parents[2] / "conformance" / "engine"
OUTPUTS = ("signals", "shadow", "decisions")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run gave: each output as its lines, the statuses, the refused lines."""

    signals: list[bytes]
    shadow: list[bytes]
    decisions: list[bytes]
    statuses: dict[str, int]
    bad: list[list[Any]]


def compact(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def events_file(case: dict[str, Any], folder: Path) -> Path:
    """The case's events as a JSONL file: ``file_base64`` as it is; else one line per
    item of ``events``, a string as it is, an object as compact JSON (UTF-8, numbers as
    the case writes them)."""
    path = folder / "events.jsonl"
    if "file_base64" in case:
        path.write_bytes(base64.b64decode(case["file_base64"]))
        return path
    lines = [item if isinstance(item, str) else compact(item) for item in case["events"]]
    path.write_bytes("".join(line + "\n" for line in lines).encode())
    return path


def rules_folder(case: dict[str, Any], folder: Path) -> Path | None:
    """The case's rule documents, one file each in their order; None: the shipped rules."""
    if "rules" not in case:
        return None
    rules = folder / "rules"
    rules.mkdir()
    for index, doc in enumerate(case["rules"]):
        (rules / f"{index:03d}.json").write_bytes(orjson.dumps(doc))
    return rules


def replay_case(case: dict[str, Any], folder: Path) -> Outcome:
    """The case replayed by the core as ``riskstream replay`` replays a file."""
    events = events_file(case, folder)
    center = rule_center(rules_folder(case, folder))
    policy = DecisionPolicy(**case["policy"]) if "policy" in case else None
    limits = EngineLimits(max_entries=case["max_entries"]) if "max_entries" in case else None
    replay = NativeReplay(center, policy, limits)
    bad = replay.load(events, case.get("max_bytes", MAX_LINE_BYTES))
    decisions, signals, shadow = replay.run(len(replay))
    return Outcome(
        [dumps(signal) for signal in signals],
        [dumps(signal) for signal in shadow],
        decisions.splitlines(),
        dict(replay.stats.statuses),
        [[line.line, line.reason] for line in bad],
    )


def expected_of(case: dict[str, Any]) -> Outcome:
    """The case's outcome: its objects as orjson writes them."""
    return Outcome(
        *([orjson.dumps(item) for item in case.get(name, [])] for name in OUTPUTS),
        case.get("statuses", {}),
        case.get("bad", []),
    )


def differences(want: Outcome, got: Outcome, unchecked: Iterable[str] = ()) -> list[str]:
    found = []
    for name in OUTPUTS:
        if name in unchecked:
            continue
        expected, actual = getattr(want, name), getattr(got, name)
        if expected != actual:
            diff = difflib.unified_diff(
                [line.decode() for line in expected], [line.decode() for line in actual],
                f"case/{name}", f"core/{name}", lineterm="", n=0,
            )  # fmt: skip
            found.append("\n".join(line[:400] for line in list(diff)[:30]))
    for name in ("statuses", "bad"):
        if getattr(want, name) != getattr(got, name):
            found.append(f"{name}: case {getattr(want, name)}, core {getattr(got, name)}")
    return found


def load() -> list[Any]:
    params = []
    for path in sorted(ROOT.glob("*.json")):
        for case in json.loads(path.read_text())["cases"]:
            pending = case.get("pending")
            marks = [pytest.mark.xfail(strict=True, reason=pending)] if pending else []
            params.append(pytest.param(case, id=f"{path.stem}/{case['name']}", marks=marks))
    assert params, f"no cases in {ROOT}"
    return params


@pytest.mark.parametrize("case", load())
def test_engine_case(case: dict[str, Any], tmp_path: Path) -> None:
    got = replay_case(case, tmp_path)
    problems = differences(expected_of(case), got, case.get("unchecked", ()))
    assert not problems, "\n\n".join(problems)


def test_case_names_are_unique_in_their_file() -> None:
    for path in sorted(ROOT.glob("*.json")):
        names = [case["name"] for case in json.loads(path.read_text())["cases"]]
        assert len(names) == len(set(names)), path.name
