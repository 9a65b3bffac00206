"""``riskstream rules ...``: validate rule files, and manage the rules topic."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import yaml
from kafka import KafkaConsumer, KafkaProducer

from riskstream.agents.cep.compiler import RuleError
from riskstream.agents.rule_center import RuleCenter, encode_rule
from riskstream.cli.broker import one_partition_records, require_broker
from riskstream.rules.loader import (
    PACK_DIR,
    AnyRuleDoc,
    default_pack,
    default_score_rules,
    load_file,
    rule_files,
)
from riskstream.streams.kafka_security import client_options
from riskstream.streams.rule_model import rule_json_schema
from riskstream.streams.rule_suspension import SuspensionError
from riskstream.streams.settings import Settings


class RulesCommandError(Exception):
    """Refused: nothing was changed; the message says why."""


@dataclass(frozen=True, slots=True)
class Checked:
    path: Path
    docs: list[AnyRuleDoc]
    error: str | None


def validate_paths(paths: list[Path]) -> list[Checked]:
    """Every rule file under ``paths`` (the shipped pack when empty), checked."""
    results = []
    for path in rule_files(paths or [PACK_DIR]):
        try:
            results.append(Checked(path, load_file(path), None))
        except (RuleError, OSError) as error:
            results.append(Checked(path, [], str(error)))
    ids: dict[str, Path] = {}
    final = []
    for checked in results:
        clash = next((doc.id for doc in checked.docs if doc.id in ids), None)
        for doc in checked.docs:
            ids.setdefault(doc.id, checked.path)
        if clash:
            checked = Checked(checked.path, checked.docs, f"rule id {clash} also in {ids[clash]}")  # noqa: PLW2901
        final.append(checked)
    return final


def read_center(settings: Settings, timeout_s: float = 15.0) -> RuleCenter:
    """The rules in force as a worker would see them: the pack overlaid by the topic."""
    center = RuleCenter(
        default_pack() if settings.load_pack else [],
        default_score_rules() if settings.load_pack else [],
        approval_required=settings.rules_approval == "required",
    )
    require_broker(settings)
    consumer = KafkaConsumer(
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        consumer_timeout_ms=int(timeout_s * 1000),
    )
    try:
        if settings.topics.rules not in consumer.topics():
            raise RulesCommandError(
                f"no topic {settings.topics.rules} at {settings.kafka_bootstrap}, or this "
                "Kafka login may not read it: run `riskstream topics create` first, or see "
                "`riskstream acls list`"
            )
        for record in one_partition_records(consumer, settings.topics.rules):
            center.apply(record.key, record.value, record.offset, record.headers)
        # Rule versions the workers suspended for their time, when this login may see
        # them (a worker refuses a bad one, and so does this).
        if settings.topics.rule_suspensions in consumer.topics():
            for record in one_partition_records(consumer, settings.topics.rule_suspensions):
                with contextlib.suppress(SuspensionError):
                    center.apply_suspension(record.key, record.value, record.offset)
    finally:
        consumer.close()
    return center


def checked_records(settings: Settings, docs: list[AnyRuleDoc]) -> list[tuple[str, bytes]]:
    """The records of ``docs``, each checked against the rules in force; refused all
    together when one is refused."""
    center = read_center(settings)
    center.approval_required = False  # the documents are checked, not their approval
    errors = [
        f"{doc.id}: {refusal.error}"
        for doc in docs
        if (refusal := center.apply(doc.id.encode(), encode_rule(doc))) is not None
    ]
    if errors:
        raise RulesCommandError("refused, nothing pushed:\n  " + "\n  ".join(errors))
    return [(doc.id, encode_rule(doc)) for doc in docs]


def push(settings: Settings, docs: list[AnyRuleDoc]) -> list[str]:
    """Check every document against the rules in force, then publish them all, or none."""
    send_records(settings, list(checked_records(settings, docs)))
    return [f"{doc.id} v{doc.version} ({doc.mode})" for doc in docs]


def mode_change(settings: Settings, rule_id: str, mode: str) -> AnyRuleDoc:
    """A new version of the rule in force with another mode (active, shadow, disabled)."""
    current = read_center(settings).doc(rule_id)
    if current is None:
        raise RulesCommandError(f"no rule {rule_id} in force")
    doc = current.model_copy(update={"mode": mode, "version": current.version + 1})
    return type(current).model_validate(doc.model_dump())


def set_mode(settings: Settings, rule_id: str, mode: str) -> AnyRuleDoc:
    doc = mode_change(settings, rule_id, mode)
    push(settings, [doc])
    return doc


def require_rule(settings: Settings, rule_id: str) -> None:
    if read_center(settings).doc(rule_id) is None:
        raise RulesCommandError(f"no rule {rule_id} in force")


def delete(settings: Settings, rule_id: str) -> None:
    require_rule(settings, rule_id)
    send_records(settings, [(rule_id, None)])


def pushed_docs(targets: list[str]) -> list[AnyRuleDoc]:
    """The documents of the rule files or directories ``targets``, all valid, or refused."""
    if not targets:
        raise ValueError("push needs rule files or directories")
    checked = validate_paths([Path(target) for target in targets])
    broken = [f"{item.path}: {item.error}" for item in checked if item.error]
    if broken:
        raise RulesCommandError("refused, nothing pushed:\n  " + "\n  ".join(broken))
    return [doc for item in checked for doc in item.docs]


def show(settings: Settings, rule_id: str) -> str:
    current = read_center(settings).doc(rule_id)
    if current is None:
        raise RulesCommandError(f"no rule {rule_id} in force")
    return str(yaml.safe_dump(current.model_dump(mode="json"), sort_keys=False))


def schema_json() -> str:
    return orjson.dumps(rule_json_schema(), option=orjson.OPT_INDENT_2).decode() + "\n"


Headers = list[tuple[str, bytes]]


def send_records(
    settings: Settings,
    records: list[tuple[str, bytes | None]],
    headers: list[Headers] | None = None,
) -> None:
    """Publish ``records`` to the rules topic, each with its own headers if given."""
    require_broker(settings)
    producer = KafkaProducer(**client_options(settings), acks="all")
    try:
        for number, (key, value) in enumerate(records):
            extra = headers[number] if headers else None
            producer.send(settings.topics.rules, key=key.encode(), value=value, headers=extra)
        producer.flush()
    finally:
        producer.close()


def run_action(
    settings: Settings, action: str, targets: list[str], say: Callable[[str], None]
) -> None:
    """One ``riskstream rules`` call. Raises RulesCommandError when refused, ValueError
    when the call itself is wrong."""
    if action == "validate":
        results = validate_paths([Path(target) for target in targets])
        for result in results:
            names = ", ".join(f"{doc.id} v{doc.version}" for doc in result.docs)
            say(f"ok     {result.path}: {names}" if result.error is None
                else f"FAILED {result.path}: {result.error}")  # fmt: skip
        failed = [result for result in results if result.error]
        if failed or not results:
            raise RulesCommandError(f"{len(failed)} of {len(results)} rule files failed")
    elif action == "push":
        for line in push(settings, pushed_docs(targets)):
            say(f"pushed {line}")
    elif action == "list":
        center = read_center(settings)
        for row in center.summary():
            say(f"{row['id']:<28} v{row['version']:<3} {row['mode']:<9} {row['entity']:<12} "
                f"{row['source']:<6} {row['description']}")  # fmt: skip
        for refusal in center.refusals:
            say(f"refused at offset {refusal.offset}: {refusal.error}")
    elif action == "show" and len(targets) == 1:
        say(show(settings, targets[0]))
    elif action in MODES and len(targets) == 1:
        doc = set_mode(settings, targets[0], MODES[action])
        say(f"pushed {doc.id} v{doc.version} ({doc.mode})")
    elif action == "delete" and len(targets) == 1:
        delete(settings, targets[0])
        say(f"deleted {targets[0]}")
    elif action == "schema":
        say(schema_json())
    else:
        raise ValueError(f"unknown rules call: {action} {' '.join(targets)}".strip())


MODES = {"enable": "active", "shadow": "shadow", "disable": "disabled"}
