"""A rule's signal as published: the core finds it, this dresses it from the rule document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from riskstream.streams.events import from_epoch_ms
from riskstream.streams.outputs import Signal, deterministic_id
from riskstream.streams.rule_model import RuleDoc

if TYPE_CHECKING:
    from riskstream.agents.cep.compiler import CompiledRule


def ttl_ms(doc: RuleDoc) -> int:
    """How long a rule's signal stays active, in milliseconds."""
    return int(doc.ttl.total_seconds() * 1000)


def make_signal(
    doc: RuleDoc,
    entity_key: str,
    window_key: str,
    evidence: tuple[str, ...],
    shown: dict[str, Any],
    trigger_event_id: str,
    detected_ms: int,
    signal_id: str | None = None,
) -> Signal:
    """A rule's signal on an entity's window (or sequence match), named by both unless
    ``signal_id`` (the core's) is given."""
    return Signal(
        signal_id=signal_id
        or deterministic_id(doc.id, doc.version, doc.entity, entity_key, window_key),
        pattern=doc.signal_pattern,
        rule_id=doc.id,
        rule_version=doc.version,
        entity_type=doc.entity,
        entity_id=entity_key,
        severity=doc.severity,
        evidence=evidence,
        aggregates=shown,
        trigger_event_id=trigger_event_id,
        detected_at=from_epoch_ms(detected_ms),
        expires_at=from_epoch_ms(detected_ms + ttl_ms(doc)),
        **({"penalty": {"kind": doc.penalty}} if doc.penalty else {}),
        effect="score" if doc.effect == "score" else None,
    )


def dress(groups: Sequence[Sequence[CompiledRule]], item: tuple[Any, ...]) -> Signal:
    """A signal as the core hands it over (``riskstream/_core.pyi``: group, rule, id,
    entity, evidence, aggregates, trigger, detected_ms, expires_ms), dressed by the rule
    document of the plan the core ran (``groups``: ``agents.plan.rule_groups``)."""
    group, rule, signal_id, entity_id, evidence, shown, trigger, detected_ms, _ = item
    doc = groups[group][rule].doc
    return make_signal(
        doc, entity_id, "", evidence, shown, trigger, detected_ms, signal_id=signal_id
    )
