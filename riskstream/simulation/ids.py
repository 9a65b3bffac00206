"""Entity ids and IP addresses that say nothing about where they came from.

Background customers and injected scenarios draw their ids from one mint, in one
format (``acct-3f9c01d2``), so an id never tells an injected story from ordinary
traffic: the ground truth is only in the labels file. Every id is unique within a run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IpBlock:
    """An IPv4 block, as its first address (an int) and its size."""

    first: int
    size: int

    def address(self, offset: int) -> str:
        value = self.first + offset % self.size
        return f"{value >> 24}.{(value >> 16) & 0xFF}.{(value >> 8) & 0xFF}.{value & 0xFF}"


def _block(a: int, b: int, prefix: int) -> IpBlock:
    return IpBlock((a << 24) | (b << 16), 1 << (32 - prefix))


# All in 100.64.0.0/10, apart: broadband lines (one per household, or an injected
# story's address), carrier-grade NAT exits shared by mobile users, office networks.
BROADBAND = _block(100, 64, 11)
MOBILE = _block(100, 96, 12)
OFFICE = _block(100, 112, 12)

# Id formats: prefix and number of hex digits.
FORMATS: dict[str, tuple[str, int]] = {
    "account": ("acct", 8),
    "device": ("dev", 12),
    "terminal": ("term", 8),
    "card": ("card-tok", 8),
    "bank": ("bank-acct", 8),
    "merchant": ("merch", 6),
}


class IdMint:
    """Unique, random-looking ids from a seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._used: set[str] = set()

    def new(self, kind: str) -> str:
        prefix, digits = FORMATS[kind]
        while True:
            value = f"{prefix}-{self.rng.getrandbits(4 * digits):0{digits}x}"
            if value not in self._used:
                self._used.add(value)
                return value

    def ip(self, block: IpBlock) -> str:
        """A fresh address of ``block``, never handed out before."""
        while True:
            value = block.address(self.rng.randrange(block.size))
            if value not in self._used:
                self._used.add(value)
                return value
