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
    view = entry.view
    if view is not None:  # plain views of every entry involved: no copies, no guard
        steps: dict[str, Any] = {}
        for name, items in chosen.items():
            chosen_view = items[0].view
            if chosen_view is None:
                break
            steps[name] = chosen_view
        else:
            return step.match.test_plain({"event": view, "steps": steps})
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


Chosen = dict[str, list[Entry]]


class _Abort:
    """A step found its first entry but not enough repetitions: no later try can."""


ABORT = _Abort()


def _complete(
    rule: CompiledRule,
    candidates: list[Entry],
    position: int,
    step_index: int,
    chosen: Chosen,
    deadline_ms: int,
    final: Entry | None = None,
) -> Chosen | None:
    """Depth-first: the earliest entries after ``position`` that finish the steps;
    with ``final`` (the last candidate), only completions whose last step is it."""
    if step_index == len(rule.steps):
        return chosen
    step = rule.steps[step_index]
    if final is not None and step_index == len(rule.steps) - 1:
        if position >= len(candidates) or final.ts_ms > deadline_ms:
            return None
        return {**chosen, step.name: [final]} if _fits(step, final, rule.tag, chosen) else None
    for index in range(position, len(candidates)):
        if candidates[index].ts_ms > deadline_ms:
            return None
        outcome = _attempt(rule, candidates, index, step_index, chosen, deadline_ms, final)
        if isinstance(outcome, _Abort):
            return None
        if outcome is not None:
            return outcome
    return None


def _attempt(
    rule: CompiledRule,
    candidates: list[Entry],
    index: int,
    step_index: int,
    chosen: Chosen,
    deadline_ms: int,
    final: Entry | None,
) -> Chosen | _Abort | None:
    """The step begun at ``candidates[index]``, then the rest: the completion, None to
    try a later entry, or ABORT."""
    step = rule.steps[step_index]
    tag = rule.tag
    entry = candidates[index]
    if not _fits(step, entry, tag, chosen):
        return None
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
        return ABORT
    return _complete(
        rule, candidates, cursor, step_index + 1, {**chosen, step.name: picked}, deadline_ms,
        final,
    )  # fmt: skip


def _completions_ending_with(
    rule: CompiledRule, candidates: list[Entry], starts: list[int], final: Entry
) -> dict[int, Chosen | None]:
    """For each start, what ``_complete`` from it finds ending with ``final``.

    No candidate is later than ``final`` and every start's deadline reaches it, so no
    deadline cuts a search: the try at an entry has the same outcome for every start
    that reaches it, and one backward pass gives each start its first success.
    """
    results: dict[int, Chosen | None] = {}
    wanted = set(starts)
    following: Chosen | None = None
    for index in range(len(candidates) - 2, starts[0] - 1, -1):
        outcome = _attempt(rule, candidates, index, 0, {}, final.ts_ms, final)
        if isinstance(outcome, _Abort):
            following = None
        elif outcome is not None:
            following = outcome
        if index in wanted:
            results[index] = following
    return results


def matches(rule: CompiledRule, state: EntityState, newest: Entry | None = None) -> list[Match]:
    """Complete matches among the entries, one per start, earliest start first.

    ``newest``, the entry just applied, narrows the search when it is the latest entry
    of the entity. A completion without it was already found when its own last event
    came, and was then reported or suppressed; one with it is the start's earliest
    completion ending with ``newest``, and is named by its first event either way. So
    the narrowed search reports what the full one would (a differential test holds it
    to that) in linear instead of quadratic time. Absence rules, which also change with
    the watermark, and repeated last steps always search in full.
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
    starts = starts[-MAX_STARTS:]
    narrowed: dict[int, Chosen | None] = {}
    if final is not None:
        last = len(candidates) - 1  # final itself starts nothing: it ends the match
        starts = [i for i in starts if i < last and final.ts_ms <= candidates[i].ts_ms + within]
        if starts:
            narrowed = _completions_ending_with(rule, candidates, starts, final)
    for index in starts:
        start = candidates[index]
        if final is not None:
            chosen = narrowed[index]
        else:
            chosen = _complete(rule, candidates, index, 0, {}, start.ts_ms + within)
        if chosen is None:
            continue
        members = sorted((item for items in chosen.values() for item in items), key=_sort_key)
        if rule.absent is not None and not _absence_holds(
            rule, state, candidates, members, chosen, within
        ):
            continue
        # Named by its first event: a search from one start may complete from a later one.
        found.append(Match(f"q:{members[0].event_id}", members, chosen))
    return found


def _narrowable(rule: CompiledRule, candidates: list[Entry], newest: Entry | None) -> bool:
    return (
        newest is not None
        and rule.absent is None
        and rule.steps[-1].times == 1
        and len(rule.steps) > 1
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
