"""CEL's value rules as the fast path models them: equality, order and arithmetic over
null, bool, int64, double and string, with the errors the ``cel`` package gives for them.

A value outside that model (a list or map where a scalar is expected ...) raises
:class:`Fallback`: the caller asks the ``cel`` package instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Context = dict[str, Any]
Fn = Callable[[Context], Any]

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
_NO_OVERLOAD = "No such overload: the operation is not defined for the given operand types."
# Evaluation errors as the ``cel`` package raises them; ``Fallback`` is not among them.
ERRORS = (KeyError, TypeError, ZeroDivisionError, OverflowError)
_SCALARS = (str, float, bool, type(None))
_NUMBERS = (int, float)
_CONTAINERS = (dict, list)


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The fast path cannot decide this evaluation exactly; ask the ``cel`` package."""


def _overload() -> TypeError:
    return TypeError(_NO_OVERLOAD)


def equal(left: Any, right: Any) -> bool:
    kind = type(left)
    if kind is type(right):
        if kind in _CONTAINERS:
            raise Fallback
        return bool(left == right)
    if kind in _NUMBERS and type(right) in _NUMBERS:
        return float(left) == float(right)
    if kind in _CONTAINERS or type(right) in _CONTAINERS:
        raise Fallback
    return False


def _ordered(left: Any, right: Any) -> tuple[Any, Any]:
    """The operands of an ordering, or the error CEL gives for them."""
    kind = type(left)
    if kind is type(right):
        if kind is int or kind is str or kind is bool:
            return left, right
        if kind is float:
            if math.isnan(left) or math.isnan(right):  # CEL has no order for NaN
                raise _overload()
            return left, right
    elif kind in _NUMBERS and type(right) in _NUMBERS:
        left, right = float(left), float(right)
        if math.isnan(left) or math.isnan(right):
            raise _overload()
        return left, right
    if kind in _CONTAINERS or type(right) in _CONTAINERS:
        raise Fallback
    raise _overload()


def _int(value: int, operation: str) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise OverflowError(f"Arithmetic overflow in '{operation}'")
    return value


def _arith_types(left: Any, right: Any) -> type:
    """The common type of two arithmetic operands, or the error CEL gives."""
    kind = type(left)
    if kind is type(right) and kind in (int, float, str):
        return kind
    if kind in _CONTAINERS or type(right) in _CONTAINERS:
        raise Fallback
    raise _overload()


def add(left: Any, right: Any) -> Any:
    kind = _arith_types(left, right)
    if kind is int:
        return _int(left + right, "add")
    return left + right


def subtract(left: Any, right: Any) -> Any:
    kind = _arith_types(left, right)
    if kind is int:
        return _int(left - right, "sub")
    if kind is str:
        raise _overload()
    return left - right


def multiply(left: Any, right: Any) -> Any:
    kind = _arith_types(left, right)
    if kind is int:
        return _int(left * right, "mul")
    if kind is str:
        raise _overload()
    return left * right


def divide(left: Any, right: Any) -> Any:
    kind = _arith_types(left, right)
    if kind is str:
        raise _overload()
    if kind is int:
        if right == 0:
            raise ZeroDivisionError("division by zero in CEL expression")
        if left == INT_MIN and right == -1:
            raise OverflowError("Arithmetic overflow in 'div'")
        quotient = abs(left) // abs(right)
        return quotient if (left < 0) == (right < 0) else -quotient
    if right == 0.0:  # IEEE 754, as CEL doubles are
        if math.isnan(left) or left == 0.0:
            return math.nan
        return math.copysign(math.inf, left) * math.copysign(1.0, right)
    return left / right


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": add, "-": subtract, "*": multiply, "/": divide,
}  # fmt: skip
