"""The Faust tables (RocksDB-backed, changelogged) that hold riskstream's state.

Faust takes a table's serializer from its value type's Faust options, which pydantic
models and dataclasses lack (faust-streaming #556); so tables hold raw bytes and
:class:`StateTable` turns them into state objects through the one codec.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import faust

from riskstream.streams.codec import WireState, dumps, loads
from riskstream.tables.account_state import AccountState

StateT = TypeVar("StateT", bound=WireState)

ACCOUNT_STATE = "account-state"


class StateTable(Generic[StateT]):
    """A typed view of a bytes-valued Faust table, keyed by ``str``."""

    def __init__(self, table: Any, state: type[StateT]) -> None:
        self.table = table
        self.state = state

    def get(self, key: str) -> StateT | None:
        raw = self.table.get(key.encode())
        return None if raw is None else self.state.from_wire(loads(raw))

    def set(self, key: str, value: StateT) -> None:
        self.table[key.encode()] = dumps(value.to_wire())


def account_state_table(app: faust.App, partitions: int) -> StateTable[AccountState]:
    """Window state per account, keyed by the account id (the message key)."""
    table = app.Table(
        ACCOUNT_STATE,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        help="Per-account window state of the detectors.",
    )
    return StateTable(table, AccountState)
