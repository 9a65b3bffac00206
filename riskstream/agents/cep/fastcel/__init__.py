"""A native fast path for the common subset of CEL, exactly as the ``cel`` package does it.

Converting a context into CEL values costs far more than evaluating the usual rule
condition, so the subset every shipped rule uses is compiled into Python closures over
the plain context dicts: ``&& || ! ?:``, ``== != < <= > >=``, ``in`` a list of literals,
``+ - * /``, field selection (``event.x``, ``steps.a.x``), ``has(a.b)``, ``size(x)``, literals
(double- or single-quoted strings without escapes, decimal ints and doubles, ``true``,
``false``, ``null``) and the functions of :data:`expressions.FUNCTIONS`.

What it accepts it evaluates exactly as the ``cel`` package (the reference) does, errors
included: the same value, or an exception of the same type (``KeyError`` for a missing
field, ``TypeError`` for no overload, ``ZeroDivisionError``, ``OverflowError``).
Whenever a value falls outside what is modelled here (a list or map where a scalar is
expected, an int beyond int64, a Python object CEL would fail to convert ...), it raises
:class:`Fallback` and the caller asks the ``cel`` package instead. Any source it does not
parse (comments, escapes, macros, indexing, methods, ``%`` ...) is refused at compile
time and stays with the ``cel`` package. ``tests/unit/agents/cep/test_fastcel.py``
compares both over the shipped pack and many generated contexts.

One idea per module:

- :mod:`.semantics`: CEL's equality, order and arithmetic, its errors, :class:`Fallback`;
- :mod:`.plain`: the values modelled (:func:`is_plain`) and the guard of a context;
- :mod:`.tokens`: the tokenizer;
- :mod:`.parser`: the parser, building closures as it goes;
- :mod:`.closures`: the closures, one per operation;
- :mod:`.compiler`: :func:`compile_fast` and :func:`compile_fast_pair`.
"""

from __future__ import annotations

from riskstream.agents.cep.fastcel.compiler import compile_fast, compile_fast_pair
from riskstream.agents.cep.fastcel.plain import check_plain, is_plain, make_guard
from riskstream.agents.cep.fastcel.semantics import (
    ERRORS,
    INT_MAX,
    INT_MIN,
    Context,
    Fallback,
    Fn,
    add,
    divide,
    equal,
    multiply,
    subtract,
)
from riskstream.agents.cep.fastcel.tokens import RefusedError

__all__ = [
    "ERRORS",
    "INT_MAX",
    "INT_MIN",
    "Context",
    "Fallback",
    "Fn",
    "RefusedError",
    "add",
    "check_plain",
    "compile_fast",
    "compile_fast_pair",
    "divide",
    "equal",
    "is_plain",
    "make_guard",
    "multiply",
    "subtract",
]
