"""riskstream's native replay runtime (``native/src``, Rust through PyO3), built into the
package as ``riskstream._core``; the rest of the code reaches it through ``riskstream.core``.

``riskstream.offline.native`` drives :class:`Replay`, ``riskstream.agents.live_rules``
:class:`LiveEngine`. The functions whose names start with an underscore are test hooks
(``tests/unit/conformance``): they expose the strict event reader and the CEL evaluation
one call at a time, for the conformance cases of ``tests/conformance/``.
"""

from collections.abc import Callable
from typing import Any, Literal, TypedDict, final

__all__ = [
    "LiveEngine",
    "Replay",
    "Tokeniser",
    "TooDeep",
    "Unsupported",
    "_evaluate",
    "_field_path",
    "_from_projection",
    "_parse_line",
    "expression_refusal",
    "field_kind",
    "is_token",
    "mask",
    "mask_text",
    "pan_digits",
    "state_last_seen",
]

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
    def __new__(
        cls, plan: bytes, ip_prefix: Callable[[str], str | None], token_key: bytes
    ) -> Replay:
        """``plan``: the JSON of ``plan_of``; ``ip_prefix``: ``expressions._ip_prefix``;
        ``token_key``: the secret live ingest tokenises under. Raises :class:`Unsupported`
        for a rule set not modelled here."""

    def load(self, path: str, max_bytes: int) -> list[tuple[int, bytes]]:
        """Read a JSONL file, each line tokenised (:class:`Tokeniser`) before it is
        read; the lines the strict reader is unsure of, as (line number, stripped bytes as
        in the file), for Python to tokenise and validate. ValueError when the file is
        unreadable."""

    def add_projection(self, line: int, projection: bytes) -> None:
        """An event Python validated: ``{"ms": occurred_ms, "fields": project(event)}``."""

    def sort(self) -> None: ...
    def __len__(self) -> int: ...
    def run(self, count: int) -> tuple[bytes, list[_Signal], list[_Signal]]:
        """The next ``count`` events: (decision lines, signals, shadow signals)."""

    def counts(self) -> _Counts: ...

# (status "applied" | "duplicate" | "late" | "error", signals, shadow signals, why "error")
_EventOutcome = tuple[str, list[_Signal], list[_Signal], str | None]

@final
class LiveEngine:
    """The live pipeline's engine: an entity's events of one micro-batch applied to its
    state record (``native/src/live.rs``)."""

    def __new__(cls, plan: bytes, cache_bytes: int) -> LiveEngine:
        """``plan``: ``agents.plan.plan_of``; ``cache_bytes``: memory for decoded states.
        Raises :class:`Unsupported` for a rule set the core cannot run."""

    def slow_rules(self, budget_us: int) -> list[tuple[int, int, int]]:
        """The rules (group, rule index, microseconds) one of whose expressions took
        longer than ``budget_us`` in one evaluation since the last call."""

    def cache_stats(self) -> tuple[int, int, int, int]:
        """The state cache: (hits, misses, states kept, bytes they take, roughly)."""

    def group_of(self, source: str) -> int | None:
        """The group whose key expression is spelled ``source``."""

    def routes(self, projection: bytes) -> list[tuple[int, str]]:
        """The other groups' entities of an event: (group, key). ValueError when a key
        expression fails."""

    def apply(
        self, batches: list[tuple[int, str, bytes | None, list[bytes]]], routes: bool = False
    ) -> list[tuple[bytes, list[_EventOutcome], str | None, list[list[tuple[int, str]] | str]]]:
        """Batches of (group, key, stored record, [projection ...]); per batch the record
        to write back, each event's outcome, why the stored record was unreadable (the
        entity then started afresh), and with ``routes`` each event's other entities
        (as :meth:`routes`) or why they could not be told. The GIL is released while it
        computes."""

    def import_state(self, group: int, json: bytes) -> bytes:
        """The record of a state given as JSON (``tables.legacy.import_document``).
        ValueError when the JSON is not such a state."""

    def what_if(self, stored: bytes | None, key: str, projection: bytes) -> list[_Signal]:
        """The account rules' active signals were the event applied now to ``stored``."""

    def spent_on(self, stored: bytes | None, now_ms: int) -> str:
        """An account record's outgoing total on ``now_ms``'s UTC day (a decimal)."""

def state_last_seen(record: bytes) -> int | None:
    """A record's last event time (-1: none); None when it is not a core record."""

# --- sensitive values (``native/src/tokens/``) ---------------------------------------------

class TooDeep(ValueError):  # noqa: N818 - the name the native module gives it
    """A message nests deeper than the 32 levels an event may."""

@final
class Tokeniser:
    """Keyed tokens (HMAC-SHA256) under one secret."""

    def __new__(cls, key: bytes) -> Tokeniser: ...
    def tokenise(self, message: bytes) -> bytes:
        """The JSON message with its card, phone and id numbers tokenised, CVV/PIN data
        dropped, card numbers in text masked: ``message`` itself when it has none (or is
        not an object). ValueError when it is not JSON, :class:`TooDeep`."""

    def token(self, kind: str, value: str) -> str:
        """``tok_<kind>_<32 hex>`` of a value of this kind (``pan``, ``phone``, ``nid``,
        ``secret``). ValueError for an unknown kind."""

    def lookup_id(self, value: str) -> str:
        """An id as the state knows it: a card number is looked up by its token."""

def mask(message: bytes) -> tuple[bytes, list[str]]:
    """The JSON message with the same values masked (no secret needed) and the kinds
    found (``secret``, ``pan``, ``phone``, ``nid``): ``message`` itself when none.
    ValueError when it is not JSON, :class:`TooDeep`."""

def mask_text(text: str) -> str:
    """``text`` with every card number in it masked (``411111******1111``)."""

def pan_digits(value: str) -> str | None:
    """The digits of ``value`` when the whole of it is one card number, else None."""

def field_kind(name: str) -> str | None:
    """The kind of sensitive value a field of this name holds (``secret``, ``pan``,
    ``phone``, ``nid``), if any."""

def is_token(value: str) -> bool: ...

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

@final
class CelContext:
    """The variables a decision's conditions read, converted once: ``event`` from the
    core's projection (``{"ms": ..., "fields": ...}``), the others (``profiles``,
    ``penalties``, ``spent_today``) plain values by name."""

    def __init__(self, projection: bytes, variables: dict[str, Any]) -> None: ...

@final
class Condition:
    """A compiled condition (a scoring rule's ``when``); ValueError ("refused: ...") for
    a source the core does not compile."""

    def __init__(self, source: str) -> None: ...
    def test(self, context: CelContext) -> bool:
        """True only for a boolean true; an evaluation error is false."""

def expression_refusal(source: str) -> str | None:
    """Why the core refuses a CEL source (not CEL, nested too deep, too costly to
    evaluate); None when it compiles it."""

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
