"""The closures a parsed source is made of: one per operation, over a context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from riskstream.agents.cep.fastcel.semantics import (
    _ARITHMETIC,
    _CONTAINERS,
    _NUMBERS,
    ERRORS,
    INT_MIN,
    Context,
    Fallback,
    Fn,
    _ordered,
    _overload,
    equal,
)


def _literal(value: Any) -> Fn:
    def literal(variables: Context) -> Any:
        return value

    return literal


def _variable(name: str) -> Fn:
    def variable(variables: Context) -> Any:
        return variables.get(name)

    return variable


def _field_of(value: Any, field: str) -> Any:
    if type(value) is dict:
        return value[field]  # KeyError(field), as CEL
    if value is None or type(value) in (str, bool, int, float):
        raise _overload()
    raise Fallback


def _select(operand: Fn, field: str, path: list[str]) -> Fn:
    if len(path) == 1:  # variable.field: the common case, one call
        name = path[0]

        def variable_field(variables: Context) -> Any:
            value = variables.get(name)
            if type(value) is dict:
                return value[field]
            return _field_of(value, field)

        return variable_field

    def select(variables: Context) -> Any:
        return _field_of(operand(variables), field)

    return select


def _has(operand: Fn, field: str) -> Fn:
    def has(variables: Context) -> bool:
        value = operand(variables)
        if type(value) is dict:
            return field in value
        if value is None or type(value) in (str, bool, int, float):
            raise _overload()
        raise Fallback

    return has


def _not(operand: Fn) -> Fn:
    def negation(variables: Context) -> bool:
        value = operand(variables)
        if value is True:
            return False
        if value is False:
            return True
        if type(value) in _CONTAINERS:
            raise Fallback
        raise _overload()

    return negation


def _negate(operand: Fn) -> Fn:
    def minus(variables: Context) -> Any:
        value = operand(variables)
        kind = type(value)
        if kind is float:
            return -value
        if kind is int and value != INT_MIN:
            return -value
        if value is None or kind is str:
            raise _overload()
        raise Fallback  # CEL's own quirks: -true, -(int64 min), maps, lists

    return minus


def _and(left: Fn, right: Fn) -> Fn:
    """False if either side is false (whatever the other); true if both are true; else
    the right side's error, else the left side's, else no overload (a non-boolean)."""

    def conjunction(variables: Context) -> bool:
        try:
            first: Any = left(variables)
        except ERRORS as error:
            first = error
        else:
            if first is False:
                return False
        second = right(variables)  # its error wins
        if second is False:
            return False
        if first is True and second is True:
            return True
        if isinstance(first, BaseException):
            raise first
        raise _overload()

    return conjunction


def _or(left: Fn, right: Fn) -> Fn:
    """True if either side is true (whatever the other); false if both are false; else
    as ``&&``."""

    def disjunction(variables: Context) -> bool:
        try:
            first: Any = left(variables)
        except ERRORS as error:
            first = error
        else:
            if first is True:
                return True
        second = right(variables)
        if second is True:
            return True
        if first is False and second is False:
            return False
        if isinstance(first, BaseException):
            raise first
        raise _overload()

    return disjunction


def _conditional(condition: Fn, if_true: Fn, if_false: Fn) -> Fn:
    def conditional(variables: Context) -> Any:
        value = condition(variables)
        if value is True:
            return if_true(variables)
        if value is False:
            return if_false(variables)
        if type(value) in _CONTAINERS:
            raise Fallback
        raise _overload()

    return conditional


def _compare(operator: str, left: Fn, right: Fn) -> Fn:
    if operator == "==":

        def equals(variables: Context) -> bool:
            return equal(left(variables), right(variables))

        return equals
    if operator == "!=":

        def differs(variables: Context) -> bool:
            return not equal(left(variables), right(variables))

        return differs
    test: Callable[[Any, Any], bool] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }[operator]

    def ordering(variables: Context) -> bool:
        a, b = _ordered(left(variables), right(variables))
        return test(a, b)

    return ordering


def _in(operand: Fn, items: tuple[Any, ...]) -> Fn:
    if all(type(item) is str for item in items):
        strings = frozenset(items)

        def in_strings(variables: Context) -> bool:
            value = operand(variables)
            if type(value) is str:
                return value in strings
            if type(value) in _CONTAINERS:
                raise Fallback
            return False  # nothing else equals a string

        return in_strings

    def in_list(variables: Context) -> bool:
        value = operand(variables)
        return any([equal(value, item) for item in items])

    return in_list


def _arithmetic(operator: str, left: Fn, right: Fn) -> Fn:
    operation = _ARITHMETIC[operator]

    def arithmetic(variables: Context) -> Any:
        return operation(left(variables), right(variables))

    return arithmetic


def _size(operand: Fn) -> Fn:
    def size(variables: Context) -> int:
        value = operand(variables)
        kind = type(value)
        if kind is list or kind is dict or (kind is str and value.isascii()):
            return len(value)
        # The cel package sizes other strings its own way (not in code points), and
        # other types fail there with its own errors.
        raise Fallback

    return size


def _call(function: Callable[..., Any], arguments: tuple[Fn, ...]) -> Fn:
    def call(variables: Context) -> Any:
        values = [argument(variables) for argument in arguments]
        for value in values:
            if type(value) not in _NUMBERS:
                raise Fallback  # CEL's own wording of a failed call
        try:
            result = function(*values)
        except Exception:
            raise Fallback from None
        if type(result) is not float:
            raise Fallback
        return result

    return call
