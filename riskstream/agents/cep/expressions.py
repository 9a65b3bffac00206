"""Rule expressions checked, and the event as rules see it.

The core compiles and evaluates every rule's expressions (detection rules, and scoring
rules through ``riskstream.core.Condition``). Here a rule document's expressions are
checked when it is loaded (a source the core or the ``cel`` package's parser refuses is
refused, naming where it is); what a rule reads of the event is worked out, from the
``cel`` package's references, for the fields stored entries keep; and ``project`` gives
the event's fields as rules see them (the core's ``from_projection`` reads it).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel

from riskstream.core import expression_refusal
from riskstream.streams.events import AccountEvent, Event, Feedback, Transaction
from riskstream.streams.events import ip_prefix as _ip_prefix

_FIELD_PATH = re.compile(r"^\s*event\.([A-Za-z_][A-Za-z0-9_]*)\s*$")
EARTH_RADIUS_KM = 6371.0088


class ExpressionError(ValueError):
    """A rule's expression does not compile; the message says where and why."""


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two points in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Expression:
    """A rule's expression, checked: the core evaluates it (``riskstream.core``)."""

    source: str
    field_path: str | None  # set when the expression is just ``event.<field>``
    # variable -> the fields the expression reads of it (None: the whole value): what a
    # stored entry must keep of its event (``compiler.py``).
    reads: dict[str, frozenset[str] | None]


def compile_expression(source: str, where: str) -> Expression:
    """Compile ``source``; ``where`` names it in the error when it does not compile."""
    try:
        return _compiled(source)
    except _RefusedError as refused:
        raise ExpressionError(f"{where}: {refused}") from None


class _RefusedError(ValueError):
    """``cel`` refused a source (the message is its reason)."""


# Rules spell the same expressions again and again (the pack's keys, `event.status !=
# "failed"`), and expressions are immutable: one compilation serves every rule.
@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> Expression:
    match = _FIELD_PATH.match(source)
    # The core's verdict first: it refuses what is nested too deep for a parser's stack
    # and what one evaluation may cost too much of, which the ``cel`` package (it
    # evaluates the scoring rules) does not bound.
    refusal = expression_refusal(source)
    if refusal is not None:
        raise _RefusedError(refusal)
    try:
        program = cel.compile(source)
    except ValueError as error:
        raise _RefusedError(str(error)) from None
    references = program.references()
    reads: dict[str, frozenset[str] | None] = {}
    for variable in references.get("variables", ()):
        name = re.escape(variable)
        dotted = re.findall(rf"\b{name}\.([A-Za-z_][A-Za-z0-9_]*)", source)
        # Any other use (indexing, passing the whole map) needs the whole value.
        other = re.search(rf"\b{name}\b(?!\.[A-Za-z_])", source)
        reads[variable] = None if other or not dotted else frozenset(dotted)
    return Expression(source, match.group(1) if match else None, reads)


def project(event: Event) -> dict[str, Any]:
    """The flat view of an event that rules see as ``event``: every contract field
    (absent ones as null), money as a decimal string, plus derived fields."""
    fields: dict[str, Any] = {
        "event_id": event.event_id,
        "type": event.type,
        "account_id": event.account_id,
        "ts": event.occurred_ms / 1000,
        "hour": event.occurred_at.hour,
    }
    if isinstance(event, Transaction):
        geo = event.geo
        fields |= {
            "kind": "transaction",
            "counterparty_id": event.counterparty_id,
            "amount": str(event.amount),
            "currency": event.currency,
            "channel": event.channel,
            "device_id": event.device_id,
            "ip": event.ip,
            "ip_prefix": _ip_prefix(event.ip),
            "instrument_id": event.instrument_id,
            "status": event.status,
            "country": geo.country if geo else None,
            "lat": geo.lat if geo else None,
            "lon": geo.lon if geo else None,
        }
        if event.attributes:
            fields["attributes"] = dict(event.attributes)
    elif isinstance(event, AccountEvent):
        geo = event.geo
        fields |= {
            "kind": "account_event",
            "device_id": event.device_id,
            "ip": event.ip,
            "ip_prefix": _ip_prefix(event.ip),
            "country": geo.country if geo else None,
            "lat": geo.lat if geo else None,
            "lon": geo.lon if geo else None,
        }
    elif isinstance(event, Feedback):
        fields |= {
            "kind": "feedback",
            "counterparty_id": event.counterparty_id,
            "target_event_id": event.target_event_id,
            "label": event.label,
            "source": event.source,
        }
    return fields


def cel_view(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` as CEL sees them: money as a double (CEL has no decimal type)."""
    view = dict(fields)
    amount = view.get("amount")
    if isinstance(amount, str):
        view["amount"] = float(amount)
    return view
