"""riskstream's native replay runtime (``native/src``, Rust through PyO3), built into the
package as ``riskstream._core``; the rest of the code reaches it through ``riskstream.core``.

``riskstream.offline.native`` drives :class:`Replay`. The functions whose names start with
an underscore are test hooks (``tests/unit/native``): they expose the strict event reader
and the CEL fast path one call at a time, to be compared with the Python reference.
"""

from collections.abc import Callable
from typing import Any, Literal, TypedDict, final

__all__ = ["Replay", "Unsupported", "_evaluate", "_field_path", "_from_projection", "_parse_line"]

class Unsupported(Exception):  # noqa: N818 - the name the native module gives it
    """The native runtime does not model this run (or this projection)."""

# (group, rule, signal_id, entity_id, evidence, aggregates shown, trigger_event_id,
#  detected_ms, expires_ms)
_Signal = tuple[int, int, str, str, tuple[str, ...], dict[str, int | float | str], str, int, int]

class _Counts(TypedDict):
    events: int
    transactions: int
    statuses: dict[str, int]  # applied / duplicate / late, those above zero
    decisions: dict[str, int]

@final
class Replay:
    def __new__(cls, plan: bytes, ip_prefix: Callable[[str], str | None]) -> Replay:
        """``plan``: the JSON of ``plan_of``; ``ip_prefix``: ``expressions._ip_prefix``.
        Raises :class:`Unsupported` for a rule set not modelled here."""

    def load(self, path: str, max_bytes: int) -> list[tuple[int, bytes]]:
        """Read a JSONL file; the lines the strict reader is unsure of, as (line number,
        stripped bytes), for Python to validate. ValueError when the file is unreadable."""

    def add_projection(self, line: int, projection: bytes) -> None:
        """An event Python validated: ``{"ms": occurred_ms, "fields": project(event)}``."""

    def sort(self) -> None: ...
    def __len__(self) -> int: ...
    def run(self, count: int) -> tuple[bytes, list[_Signal], list[_Signal]]:
        """The next ``count`` events: (decision lines, signals, shadow signals)."""

    def counts(self) -> _Counts: ...

# --- test hooks ----------------------------------------------------------------------------

# (occurred_ms, the projection as JSON: ``project(event)`` with its fields in slot order and
#  the amount as its decimal string, the amount as the CEL view's double or None)
_EventOut = tuple[int, str, float | None]

def _parse_line(line: bytes, ip_prefix: Callable[[str], str | None]) -> _EventOut | None:
    """The strict reader on one line: None when it is unsure (Python decides), else the
    event. ``ip_prefix`` is called for the line's ``ip``; what it raises is raised."""

def _from_projection(projection: bytes) -> _EventOut:
    """Python's projection as ``Replay.add_projection`` reads it; ValueError (the reason)
    when refused, e.g. an attribute beyond int64."""

def _field_path(source: str) -> str | None:
    """``Expression.field_path`` of the source; ValueError when the fast path refuses it."""

_Outcome = tuple[Literal["value", "error", "fallback"], Any]

def _evaluate(
    source: str, variables: dict[str, Any], event_views: bool = True
) -> tuple[_Outcome, _Outcome]:
    """``Expr::evaluate`` and ``Expr::test`` of ``source`` over ``variables`` (names of
    rule variables to plain values: None, bool, int64, float, str, lists, str-keyed dicts).
    With ``event_views``, ``event`` and each entry of ``steps`` are event views as the
    engine passes them (fields it lacks absent) when they are dicts of event fields only.
    Each outcome is ("value", v), ("error", "KeyError" | "TypeError" | ...) or
    ("fallback", None) (the native run would give up). ValueError when the source is
    refused or a variable unknown; TypeError or ValueError for a value that is not plain."""
