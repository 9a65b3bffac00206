"""An authenticated caller, and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from riskstream.streams.access import Role

Via = Literal["jwt", "api-key", "worker"]

# A role also holds the roles it stands above: an operator reads what it acts on, and an
# admin may do everything.
IMPLIED: dict[Role, frozenset[Role]] = {
    "scorer": frozenset({"scorer"}),
    "analyst": frozenset({"analyst"}),
    "operator": frozenset({"operator", "analyst"}),
    "admin": frozenset({"admin", "operator", "analyst", "scorer"}),
}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who made a request (``subject``, as the audit trail names them) and how."""

    subject: str
    roles: frozenset[Role]
    via: Via

    def holds(self, role: Role) -> bool:
        return any(role in IMPLIED[held] for held in self.roles)
