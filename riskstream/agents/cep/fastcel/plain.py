"""Plain values: the ones the fast path models, and the guard that checks a context for
them before a guarded evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from riskstream.agents.cep.fastcel.semantics import _SCALARS, INT_MAX, INT_MIN, Context, Fallback


def check_plain(value: Any) -> None:
    """Raise :class:`Fallback` unless ``value`` is made of the types modelled here
    (null, bool, int64, double, string, and lists and string-keyed maps of them)."""
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind is int:
        if not INT_MIN <= value <= INT_MAX:
            raise Fallback
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise Fallback
            check_plain(item)
        return
    if kind is list:
        for item in value:
            check_plain(item)
        return
    raise Fallback


def make_guard(reads: Mapping[str, frozenset[str] | None]) -> Callable[[Context], None]:
    """What the ``cel`` package would convert of a context (see ``Expression.reads``)
    must be plain: it converts every read field, evaluated or not, and fails on objects
    it cannot convert; the fast path would not notice those."""
    plan = tuple((name, tuple(sorted(fields)) if fields is not None else None)
                 for name, fields in reads.items())  # fmt: skip

    def guard(variables: Context) -> None:
        for name, fields in plan:
            value = variables.get(name)
            if fields is None or type(value) is not dict:
                check_plain(value)
                continue
            for field in fields:
                item = value.get(field)
                kind = type(item)
                if kind is not str and kind is not float and item is not None:
                    check_plain(item)

    return guard


def is_plain(value: Any) -> bool:
    """Whether ``value`` passes :func:`check_plain`."""
    try:
        check_plain(value)
    except Fallback:
        return False
    return True
