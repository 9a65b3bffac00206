"""Event contract v1: the inputs upstream services produce.

Unknown extra fields are kept (``extra="allow"``) so that a newer producer never
loses data through us. Money is :class:`~decimal.Decimal`; timestamps must carry a zone.
"""

from __future__ import annotations

import functools
import ipaddress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal, TypeAlias, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
AttributeValue: TypeAlias = str | int | float | bool | None

TransactionType = Literal["payment", "transfer", "red_packet", "top_up", "withdrawal", "refund"]
AccountEventType = Literal[
    "login",
    "login_failed",
    "password_change",
    "device_bound",
    "phone_change",
    "kyc_update",
    "account_opened",
]
TransactionStatus = Literal["succeeded", "failed", "pending"]
FeedbackLabel = Literal["fraud", "legit"]
FeedbackSource = Literal["analyst", "chargeback", "customer"]

TRANSACTION_TYPES: frozenset[str] = frozenset(get_args(TransactionType))
ACCOUNT_EVENT_TYPES: frozenset[str] = frozenset(get_args(AccountEventType))
FEEDBACK_TYPES: frozenset[str] = frozenset({"feedback"})
# The transaction types that take money out of the acting account.
OUTGOING: frozenset[str] = frozenset({"payment", "transfer", "red_packet", "withdrawal"})


class Geo(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


_OCCURRED_MS_CACHE = "_occurred_ms"


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, str_max_length=4096)

    event_id: Identifier
    occurred_at: AwareDatetime
    account_id: Identifier

    @property
    def occurred_ms(self) -> int:
        """``occurred_at`` in epoch milliseconds; computed once, the engine asks for it often."""
        # to_epoch_ms costs ~1 µs (pydantic's TzInfo makes the subtraction slow). The cache
        # sits in __dict__ under a private name, so dict(event) and model_dump never show it,
        # and it remembers its datetime: model_copy(update={"occurred_at": ...}) copies
        # __dict__, and a stale value must then be recomputed, not reused.
        moment = self.occurred_at
        cached: tuple[datetime, int] | None = self.__dict__.get(_OCCURRED_MS_CACHE)
        if cached is not None and cached[0] is moment:
            return cached[1]
        epoch_ms = to_epoch_ms(moment)
        self.__dict__[_OCCURRED_MS_CACHE] = (moment, epoch_ms)
        return epoch_ms


class Transaction(_Event):
    """A money movement by ``account_id`` (the acting account)."""

    type: TransactionType
    counterparty_id: Identifier | None = None
    amount: Decimal = Field(gt=0, max_digits=24, decimal_places=8, allow_inf_nan=False)
    currency: CurrencyCode
    channel: Identifier | None = None
    device_id: Identifier | None = None
    ip: Identifier | None = None
    geo: Geo | None = None
    instrument_id: Identifier | None = None
    # Set at ingest when instrument_id was a card number, now its token (docs/security.md).
    instrument_bin: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = None
    instrument_last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    status: TransactionStatus = "succeeded"
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)


class AccountEvent(_Event):
    """Something that happened to an account: logins, credential and device changes."""

    type: AccountEventType
    device_id: Identifier | None = None
    ip: Identifier | None = None
    geo: Geo | None = None


class Feedback(_Event):
    """An analyst's, a chargeback's or a customer's verdict on a past transaction."""

    type: Literal["feedback"]
    target_event_id: Identifier
    label: FeedbackLabel
    counterparty_id: Identifier | None = None
    source: FeedbackSource = "analyst"


Event: TypeAlias = Transaction | AccountEvent | Feedback


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def to_epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of a zone-aware datetime (exact, no float)."""
    return (moment - EPOCH) // _ONE_MS


def from_epoch_ms(epoch_ms: int) -> datetime:
    """The UTC datetime of an epoch-milliseconds instant."""
    return EPOCH + epoch_ms * _ONE_MS


@functools.lru_cache(maxsize=65_536)
def ip_prefix(ip: str | None) -> str | None:
    """The network an address belongs to, as rules and profiles group it: /24 for IPv4,
    /48 for IPv6; None for no address or not an address."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))
