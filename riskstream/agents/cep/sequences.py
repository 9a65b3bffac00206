"""Sequences over an entity's entries: A then B (then C) within T, repetitions, absence.

Matching looks at the retained entries in event-time order, not at arrival order, so
the same events give the same matches however two topics interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from riskstream.agents.cep.compiler import CompiledRule, CompiledStep
from riskstream.agents.cep.expressions import cel_view
from riskstream.tables.entity_state import EntityState, Entry

MAX_STARTS = 200


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    members: list[Entry]
    by_step: dict[str, list[Entry]]

    @property
    def start_ms(self) -> int:
        return self.members[0].ts_ms

    @property
    def end_ms(self) -> int:
        return self.members[-1].ts_ms


def _fits(step: CompiledStep, entry: Entry, tag: str, chosen: dict[str, list[Entry]]) -> bool:
    if not entry.flags.get(tag, 0) & step.bit:
        return False
    if step.match is None:
        return True
    reads = step.reads_of_steps
    if reads is None:
        steps = {name: cel_view(items[0].fields) for name, items in chosen.items()}
    else:  # only what the match reads: views are copied, and checked, field by field
        steps = {
            name: cel_view(_only(items[0].fields, reads.get(name, frozenset())))
            for name, items in chosen.items()
        }
    return step.match.test({"event": cel_view(entry.fields), "steps": steps})


def _only(fields: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    return {name: fields[name] for name in names if name in fields}


def _complete(
    rule: CompiledRule,
    candidates: list[Entry],
    position: int,
    step_index: int,
    chosen: dict[str, list[Entry]],
    deadline_ms: int,
    final: Entry | None = None,
) -> dict[str, list[Entry]] | None:
    """Depth-first: the earliest entries after ``position`` that finish the steps;
    with ``final`` (the last candidate), only completions whose last step is it."""
    if step_index == len(rule.steps):
        return chosen
    step = rule.steps[step_index]
    tag = rule.tag
    if final is not None and step_index == len(rule.steps) - 1:
        if position >= len(candidates) or final.ts_ms > deadline_ms:
            return None
        return {**chosen, step.name: [final]} if _fits(step, final, tag, chosen) else None
    for index in range(position, len(candidates)):
        entry = candidates[index]
        if entry.ts_ms > deadline_ms:
            return None
        if not _fits(step, entry, tag, chosen):
            continue
        picked = [entry]
        cursor = index + 1
        while len(picked) < step.times and cursor < len(candidates):
            more = candidates[cursor]
            if more.ts_ms > deadline_ms:
                break
            if _fits(step, more, tag, chosen):
                picked.append(more)
            cursor += 1
        if len(picked) < step.times:
            return None
        found = _complete(
            rule, candidates, cursor, step_index + 1, {**chosen, step.name: picked}, deadline_ms,
            final,
        )  # fmt: skip
        if found is not None:
            return found
    return None


def matches(rule: CompiledRule, state: EntityState, newest: Entry | None = None) -> list[Match]:
    """Complete matches among the entries, one per start, earliest start first.

    ``newest``, the entry just applied, narrows the search when it is the latest entry
    of the entity: a start whose earliest completion does not end with it was already
    completed when an earlier event arrived, and was then reported or suppressed; so
    only completions ending with ``newest`` can be news (same results, linear instead
    of quadratic in the entries). Absence rules, which also change with the watermark,
    and repeated last steps always search in full.
    """
    sequence = rule.doc.sequence
    assert sequence is not None
    within = int(sequence.within.total_seconds() * 1000)
    tag = rule.tag
    first = rule.steps[0]
    candidates = [entry for entry in state.entries if entry.flags.get(tag, 0) & 1]
    found: list[Match] = []
    starts = [
        index for index, entry in enumerate(candidates) if entry.flags.get(tag, 0) & first.bit
    ]
    final = newest if _narrowable(rule, candidates, newest) else None
    for index in starts[-MAX_STARTS:]:
        start = candidates[index]
        if final is not None and final.ts_ms > start.ts_ms + within:
            continue
        chosen = _complete(rule, candidates, index, 0, {}, start.ts_ms + within, final)
        if chosen is None:
            continue
        members = sorted((item for items in chosen.values() for item in items), key=_sort_key)
        if rule.absent is not None and not _absence_holds(
            rule, state, candidates, members, chosen, within
        ):
            continue
        found.append(Match(f"q:{start.event_id}", members, chosen))
    return found


def _narrowable(rule: CompiledRule, candidates: list[Entry], newest: Entry | None) -> bool:
    return (
        newest is not None
        and rule.absent is None
        and rule.steps[-1].times == 1
        and bool(candidates)
        and candidates[-1] is newest
    )


def _absence_holds(
    rule: CompiledRule,
    state: EntityState,
    candidates: list[Entry],
    members: list[Entry],
    chosen: dict[str, list[Entry]],
    within: int,
) -> bool:
    """Nothing matching ``absent`` followed the last step within the time, and the
    entity's event time has moved past that time, so nothing still can."""
    assert rule.absent is not None
    last = members[-1]
    if state.watermark_ms < last.ts_ms + within:
        return False
    return not any(
        last.sort_key < entry.sort_key and entry.ts_ms <= last.ts_ms + within
        and _fits(rule.absent, entry, rule.tag, chosen)
        for entry in candidates
    )  # fmt: skip


def _sort_key(entry: Entry) -> tuple[int, str]:
    return entry.sort_key
