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
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
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


class RefusedError(ValueError):
    """The source is outside the fast path's subset."""


def _overload() -> TypeError:
    return TypeError(_NO_OVERLOAD)


# --- values ------------------------------------------------------------------------------


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


# --- parsing -----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<double>\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
    | (?P<int>\d+)
    | (?P<string>"[^"\\\n\r]*"|'[^'\\\n\r]*')
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>&&|\|\||==|!=|<=|>=|[<>!+\-*/?:().\[\],])
    )""",
    re.VERBOSE,
)
_RESERVED = {"true": True, "false": False, "null": None}
_RELATIONS = {"==", "!=", "<", "<=", ">", ">=", "in"}
# A token must not run straight into the next one in a way CEL reads differently:
# 1u, 0x1f, 1.5e, r"raw", b"bytes", "a""b" (triple quotes) ...
_GLUED = re.compile(r"[A-Za-z0-9_'\"]")


def _tokenize(source: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(source):
        if not source[position:].strip():
            break
        match = _TOKEN.match(source, position)
        if match is None:
            raise RefusedError(f"unexpected text at {position}")
        kind = match.lastgroup
        assert kind is not None
        text = match.group(kind)
        position = match.end()
        if kind in {"double", "int", "string", "ident"} and position < len(source):
            glued = _GLUED.match(source, position)
            if glued or (kind in {"double", "int"} and source[position] == "."):
                raise RefusedError("token glued to the next one")
        if kind == "double":
            if re.match(r"0\d", text):
                raise RefusedError("leading zero")
            tokens.append(("literal", float(text)))
        elif kind == "int":
            if (len(text) > 1 and text[0] == "0") or int(text) > INT_MAX:
                raise RefusedError("int literal")
            tokens.append(("literal", int(text)))
        elif kind == "string":
            tokens.append(("literal", text[1:-1]))
        elif kind == "ident" and text in _RESERVED:
            tokens.append(("literal", _RESERVED[text]))
        elif kind == "ident" and text == "in":
            tokens.append(("op", "in"))
        else:
            tokens.append((kind, text))
    return tokens


class _Parser:
    """Recursive descent over CEL's grammar; builds closures. Refuses what it does not know."""

    def __init__(
        self, source: str, variables: set[str], functions: Mapping[str, Callable[..., Any]]
    ):
        self.tokens = _tokenize(source)
        self.position = 0
        self.variables = variables
        self.functions = functions
        self.roots: set[str] = set()

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (value is not None and token != ("op", value)):
            raise RefusedError(f"expected {value or 'more'}")
        self.position += 1
        return token

    def at(self, value: str) -> bool:
        return self.peek() == ("op", value)

    def parse(self) -> Fn:
        node = self.expr()
        if self.peek() is not None:
            raise RefusedError("trailing tokens")
        return node

    def expr(self) -> Fn:
        condition = self.disjunction()
        if not self.at("?"):
            return condition
        self.take("?")
        if_true = self.disjunction()
        self.take(":")
        if_false = self.expr()
        return _conditional(condition, if_true, if_false)

    def disjunction(self) -> Fn:
        node = self.conjunction()
        while self.at("||"):
            self.take()
            node = _or(node, self.conjunction())
        return node

    def conjunction(self) -> Fn:
        node = self.relation()
        while self.at("&&"):
            self.take()
            node = _and(node, self.relation())
        return node

    def relation(self) -> Fn:
        left = self.addition()
        token = self.peek()
        if token is None or token[0] != "op" or token[1] not in _RELATIONS:
            return left
        operator = self.take()[1]
        if operator == "in":
            node = _in(left, self.literal_list())
        else:
            node = _compare(operator, left, self.addition())
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in _RELATIONS:
            raise RefusedError("chained relations")
        return node

    def literal_list(self) -> tuple[Any, ...]:
        self.take("[")
        items: list[Any] = []
        while not self.at("]"):
            token = self.take()
            if token[0] != "literal":
                raise RefusedError("only literals in lists")
            items.append(token[1])
            if not self.at("]"):
                self.take(",")
        self.take("]")
        if not items:
            raise RefusedError("empty list")
        return tuple(items)

    def addition(self) -> Fn:
        node = self.multiplication()
        while self.at("+") or self.at("-"):
            operator = self.take()[1]
            node = _arithmetic(operator, node, self.multiplication())
        return node

    def multiplication(self) -> Fn:
        node = self.unary()
        while self.at("*") or self.at("/"):
            operator = self.take()[1]
            node = _arithmetic(operator, node, self.unary())
        return node

    def unary(self) -> Fn:
        # CEL's parser drops an even run of ``!`` or ``-`` altogether (``!!x`` is ``x``,
        # whatever its type), so only a single one is taken here.
        for operator, build in (("!", _not), ("-", _negate)):
            if self.at(operator):
                self.take()
                if self.at("!") or self.at("-"):
                    raise RefusedError("repeated unary operator")
                return build(self.member())
        return self.member()

    def member(self) -> Fn:
        token = self.take()
        kind, value = token
        path: list[str] = []
        if kind == "literal":
            node = _literal(value)
        elif kind == "ident":
            if self.at("("):
                node = self.call(value)
            else:
                if value not in self.variables:
                    raise RefusedError(f"unknown name {value}")
                self.roots.add(value)
                path = [value]
                node = _variable(value)
        elif token == ("op", "("):
            node = self.expr()
            self.take(")")
        else:
            raise RefusedError(f"unexpected {value}")
        while self.at("."):
            self.take()
            name = self.take()
            if name[0] != "ident" or self.at("("):
                raise RefusedError("not a field selection")
            node = _select(node, name[1], path)
            path = []
        if self.at("[") or self.at("("):
            raise RefusedError("indexing or call")
        return node

    def call(self, name: str) -> Fn:
        self.take("(")
        if name == "has":  # has(variable.field[.field...]): only this form
            root = self.take()
            if root[0] != "ident" or root[1] not in self.variables:
                raise RefusedError("has() needs a field selection of a variable")
            self.roots.add(root[1])
            path = [root[1]]
            while self.at("."):
                self.take()
                field = self.take()
                if field[0] != "ident":
                    raise RefusedError("not a field selection")
                path.append(field[1])
            self.take(")")
            if len(path) < 2:
                raise RefusedError("has() needs a field selection")
            node = _variable(path[0])
            for index, field_name in enumerate(path[1:-1]):
                node = _select(node, field_name, path[:1] if index == 0 else [])
            return _has(node, path[-1])
        if name == "size":  # size(x) of a string, list or map: CEL's builtin
            argument = self.expr()
            self.take(")")
            return _size(argument)
        function = self.functions.get(name)
        if function is None:
            raise RefusedError(f"function {name}")
        arguments: list[Fn] = []
        while not self.at(")"):
            arguments.append(self.expr())
            if not self.at(")"):
                self.take(",")
        self.take(")")
        return _call(function, tuple(arguments))


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


def is_plain(value: Any) -> bool:
    """Whether ``value`` passes :func:`check_plain`."""
    try:
        check_plain(value)
    except Fallback:
        return False
    return True


# --- closures ----------------------------------------------------------------------------


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
