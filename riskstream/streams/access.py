"""Who may call the worker's HTTP routes, as configured: the roles and the API keys.

Kept with the settings (the lowest layer) so that a bad entry is refused when the
settings are read, before the worker starts.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["scorer", "analyst", "operator", "admin"]
ROLES: frozenset[str] = frozenset(get_args(Role))

# A subject names a person or a service in the audit trail: printable, no separators
# that a log line or a penalty id could be confused by.
SUBJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$"
Subject = Annotated[str, Field(pattern=SUBJECT_PATTERN)]


class ApiKey(BaseModel):
    """One API key, by the SHA-256 of the key: the key itself is never configured."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: Subject
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    roles: tuple[Role, ...] = Field(min_length=1)
