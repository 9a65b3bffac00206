"""The tuning/evaluation split: what docs/simulator.md says, and held out for real."""

from __future__ import annotations

import re
from pathlib import Path

from riskstream.simulation.heldout import EVALUATION, TUNING, DataSet

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "simulator.md"
HOME = {ROOT / "riskstream" / "simulation" / "heldout.py", DOC}


def documented() -> dict[str, tuple[str, ...]]:
    """The rows of the split table in docs/simulator.md: name -> its cells."""
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        if len(cells) == 7 and cells[1] in ("tuning", "evaluation"):
            rows[cells[0].strip("`")] = cells
    return rows


def cells(item: DataSet, use: str) -> tuple[str, ...]:
    config = item.config
    return (item.name, use, f"{config.seed:,}", f"{config.customers:,}", f"{config.days:g}",
            item.start_note or config.start.date().isoformat(),
            str(config.fraud_per_pattern))  # fmt: skip


def test_the_docs_state_the_split_the_code_uses() -> None:
    rows = documented()
    expected = [cells(item, "tuning") for item in TUNING]
    expected += [cells(item, "evaluation") for item in EVALUATION]
    assert [(row[0].strip("`"), *row[1:]) for row in rows.values()] == expected


def test_evaluation_sets_share_no_seed_or_population_with_tuning() -> None:
    tuning = {item.config.seed for item in TUNING}
    assert not tuning & {item.config.seed for item in EVALUATION}
    sizes = {(item.config.customers, item.config.days) for item in TUNING}
    assert not sizes & {(item.config.customers, item.config.days) for item in EVALUATION}
    assert len({item.config.seed for item in EVALUATION}) == len(EVALUATION)


def test_evaluation_seeds_are_used_nowhere_else() -> None:
    """A test, a doc or a benchmark that simulates an evaluation seed would tune on it."""
    patterns = [
        re.compile(rf"(?<![\d_]){seed // 1000}[_,]?{seed % 1000:03d}(?![\d_])")
        for seed in (item.config.seed for item in EVALUATION)
    ]
    for folder in ("riskstream", "tests", "benchmarks", "docs", "deploy"):
        for path in (ROOT / folder).rglob("*"):
            if path in HOME or path.suffix not in {".py", ".md", ".yaml", ".yml", ".toml"}:
                continue
            text = path.read_text(errors="replace")
            for pattern in patterns:
                if path.name == Path(__file__).name:
                    continue
                assert not pattern.search(text), (path, pattern.pattern)
    # The check itself can fail: the seeds are where they belong.
    home = (ROOT / "riskstream" / "simulation" / "heldout.py").read_text()
    assert all(pattern.search(home) for pattern in patterns)
