"""Reading rule documents from YAML or JSON files; the shipped default pack."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from riskstream.agents.cep.compiler import RuleError, RuleSet, compile_rule
from riskstream.agents.score_rules import compile_score_rule
from riskstream.agents.validation import describe_validation_error
from riskstream.streams.rule_model import RuleDoc
from riskstream.streams.scoring_model import ScoreRuleDoc

AnyRuleDoc = RuleDoc | ScoreRuleDoc

PACK_DIR = Path(__file__).parent / "pack"
SCORING_DIR = Path(__file__).parent / "scoring"
RULE_SUFFIXES = (".yaml", ".yml", ".json")


def parse_rule(data: Any, origin: str) -> RuleDoc:
    """Validate and compile one document; :class:`RuleError` says what is wrong and where."""
    if not isinstance(data, dict):
        raise RuleError(f"{origin}: a rule is a mapping, got {type(data).__name__}")
    try:
        doc = RuleDoc.model_validate(data)
    except ValidationError as error:
        raise RuleError(f"{origin}: {describe_validation_error(error)}") from None
    compile_rule(doc)
    return doc


def parse_any(data: Any, origin: str) -> AnyRuleDoc:
    """A detection rule, or a scoring rule (``kind: score``)."""
    if isinstance(data, dict) and data.get("kind") == "score":
        try:
            score_doc = ScoreRuleDoc.model_validate(data)
        except ValidationError as error:
            raise RuleError(f"{origin}: {describe_validation_error(error)}") from None
        compile_score_rule(score_doc)
        return score_doc
    return parse_rule(data, origin)


# libyaml's safe loader where PyYAML was built with it (its wheels are): the same
# documents, about ten times faster to read than the pure-Python one.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_file(path: Path) -> list[AnyRuleDoc]:
    """A file holds one rule or a list of rules."""
    text = path.read_bytes()
    try:
        data = orjson.loads(text) if path.suffix == ".json" else yaml.load(text, SAFE_LOADER)
    except (orjson.JSONDecodeError, yaml.YAMLError) as error:
        raise RuleError(f"{path}: not valid {path.suffix[1:].upper()}: {error}") from None
    items = data if isinstance(data, list) else [data]
    return [parse_any(item, f"{path}[{index}]" if isinstance(data, list) else str(path))
            for index, item in enumerate(items)]  # fmt: skip


def rule_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES))
        else:
            found.append(path)
    return found


def load_rules(paths: Iterable[Path]) -> list[AnyRuleDoc]:
    docs: list[AnyRuleDoc] = []
    seen: dict[str, Path] = {}
    for path in rule_files(paths):
        for doc in load_file(path):
            if doc.id in seen:
                raise RuleError(f"{path}: rule id {doc.id} is also defined in {seen[doc.id]}")
            seen[doc.id] = path
            docs.append(doc)
    return docs


def default_pack() -> list[RuleDoc]:
    """The shipped detection rules."""
    return [doc for doc in load_rules([PACK_DIR]) if isinstance(doc, RuleDoc)]


def default_score_rules() -> list[ScoreRuleDoc]:
    """The shipped scoring rules."""
    return [doc for doc in load_rules([SCORING_DIR]) if isinstance(doc, ScoreRuleDoc)]


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    """The shipped pack, compiled once (a RuleSet is immutable)."""
    return RuleSet.of(default_pack())
