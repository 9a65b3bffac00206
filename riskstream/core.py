"""The native core (``native/``, Rust through PyO3), built into the package as
``riskstream._core`` by ``make install``: this module is the only one that imports it.

:class:`Replay` is the native engine and scorer that ``riskstream.offline.native`` drives;
:class:`Condition` a scoring rule's condition, tested in a :class:`CelContext`;
:class:`Unsupported` is what it raises for a run it does not model. :class:`Tokeniser`,
:func:`mask` and the card-number helpers take sensitive values out of messages (live
ingest, ``POST /score/``, dead letters; the replay's reader does the same itself). The
names that start with an underscore are test hooks: the conformance runner
(``tests/unit/conformance``) holds the event reader and the CEL evaluation to the cases
of ``tests/conformance/`` through them. ``riskstream/_core.pyi`` types them all.
"""

from __future__ import annotations

from riskstream._core import (
    CelContext,
    Condition,
    LiveEngine,
    Replay,
    Tokeniser,
    TooDeep,
    Unsupported,
    _evaluate,
    _field_path,
    _from_projection,
    _parse_line,
    expression_refusal,
    field_kind,
    is_token,
    mask,
    mask_text,
    pan_digits,
    state_last_seen,
)

__all__ = [
    "CelContext",
    "Condition",
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
