from __future__ import annotations

from pathlib import Path

import pytest

from riskstream.cli.rules import RulesCommandError, run_action, validate_paths
from riskstream.rules.loader import PACK_DIR
from riskstream.streams.settings import Settings

GOOD = """
id: t.one
version: 1
description: test
events: [payment]
window: {type: sliding, size: 10m}
aggregates: {n: {fn: count}}
condition: agg.n > 3
severity: 10
"""


def test_validate_without_paths_checks_the_shipped_pack() -> None:
    results = validate_paths([])
    assert {result.path.parent for result in results} == {PACK_DIR}
    assert all(result.error is None for result in results)
    assert len({doc.id for result in results for doc in result.docs}) >= 16


def test_validate_reports_each_broken_file_and_fails(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(GOOD.replace("agg.n > 3", "agg.n >"))
    (tmp_path / "twin.yaml").write_text(GOOD)
    lines: list[str] = []
    with pytest.raises(RulesCommandError, match="2 of 3"):
        run_action(Settings(), "validate", [str(tmp_path)], lines.append)
    report = "\n".join(lines)
    assert "FAILED" in report and "bad.yaml" in report and "Syntax error" in report
    assert "rule id t.one also in" in report


def test_push_refuses_a_broken_file_before_touching_kafka(tmp_path: Path) -> None:
    broken = tmp_path / "bad.yaml"
    broken.write_text(GOOD.replace("severity: 10", "severity: 500"))
    settings = Settings(kafka_bootstrap="127.0.0.1:1")  # nothing listens: must not be needed
    with pytest.raises(RulesCommandError, match="nothing pushed"):
        run_action(settings, "push", [str(broken)], print)


def test_unknown_actions_are_usage_errors() -> None:
    with pytest.raises(ValueError, match="unknown rules call"):
        run_action(Settings(), "explode", [], print)
