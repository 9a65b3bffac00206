"""Compiling a source into the closures evaluating it over a context, guarded or not."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from riskstream.agents.cep.fastcel.parser import _Parser
from riskstream.agents.cep.fastcel.plain import make_guard
from riskstream.agents.cep.fastcel.semantics import _SCALARS, Context, Fallback, Fn
from riskstream.agents.cep.fastcel.tokens import RefusedError


def compile_fast(
    source: str,
    reads: Mapping[str, frozenset[str] | None],
    functions: Mapping[str, Callable[..., Any]],
) -> Fn | None:
    """The closure evaluating ``source`` (already compiled by the ``cel`` package, so
    valid CEL) over a context, or None when it is outside the subset."""
    pair = compile_fast_pair(source, reads, functions)
    return pair[0] if pair is not None else None


def compile_fast_pair(
    source: str,
    reads: Mapping[str, frozenset[str] | None],
    functions: Mapping[str, Callable[..., Any]],
) -> tuple[Fn, Fn] | None:
    """As :func:`compile_fast`, twice: guarded, and without the guard for contexts
    known to be plain (every value passes :func:`check_plain`), where it cannot fail."""
    try:
        parser = _Parser(source, set(reads), functions)
        root = parser.parse()
    except (RefusedError, RecursionError):
        return None
    if parser.roots != set(reads):
        return None  # a variable CEL sees that the parser did not, or the reverse
    guard = make_guard(reads)

    def evaluate(variables: Context) -> Any:
        guard(variables)
        result = root(variables)
        kind = type(result)
        if kind in _SCALARS or kind is int:
            return result
        raise Fallback  # maps and lists come back from CEL in its own shape

    def evaluate_plain(variables: Context) -> Any:
        result = root(variables)
        kind = type(result)
        if kind in _SCALARS or kind is int:
            return result
        raise Fallback

    return evaluate, evaluate_plain
