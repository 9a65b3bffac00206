"""The tokenizer of the fast path's CEL subset; it refuses what it does not know."""

from __future__ import annotations

import re
from typing import Any

from riskstream.agents.cep.fastcel.semantics import INT_MAX


class RefusedError(ValueError):
    """The source is outside the fast path's subset."""


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
