"""The parser of the fast path's CEL subset: recursive descent building the closures of
:mod:`.closures` as it goes. It refuses what it does not know."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from riskstream.agents.cep.fastcel.closures import (
    _and,
    _arithmetic,
    _call,
    _compare,
    _conditional,
    _has,
    _in,
    _literal,
    _negate,
    _not,
    _or,
    _select,
    _size,
    _variable,
)
from riskstream.agents.cep.fastcel.semantics import Fn
from riskstream.agents.cep.fastcel.tokens import RefusedError, _tokenize

_RELATIONS = {"==", "!=", "<", "<=", ">", ">=", "in"}


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
